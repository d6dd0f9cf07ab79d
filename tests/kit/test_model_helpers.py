"""The typed helpers for table classes: a stored row's id, a table class's Core table."""

from __future__ import annotations

import pytest
from sqlalchemy import Table

from service.kit.models import require_id, table_of
from service.reports.models import Report, Reporter


def test_require_id_returns_the_id_of_a_stored_row() -> None:
    assert require_id(Reporter(id=7, pseudonym="p", channel="sms")) == 7


def test_require_id_refuses_a_row_never_flushed() -> None:
    with pytest.raises(ValueError, match="Reporter has no id"):
        require_id(Reporter(pseudonym="p", channel="sms"))


def test_table_of_is_the_table_class_core_table() -> None:
    table = table_of(Report)
    assert isinstance(table, Table) and table.name == "report" and "due_at" in table.c
