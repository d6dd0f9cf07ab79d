"""A database error never carries the statement's parameters (a masked narrative, a sealed blob)
into an exception message or a log line: the engine is built with hide_parameters."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, StatementError

from service.db import build_engine


def test_errors_hide_bound_parameters(settings) -> None:  # type: ignore[no-untyped-def]
    engine = build_engine(settings)
    try:
        with pytest.raises((DBAPIError, StatementError)) as caught, engine.connect() as conn:
            conn.execute(text("SELECT * FROM no_such_table WHERE x = :v"), {"v": "RAWSTORY-012345678"})
        assert "RAWSTORY" not in str(caught.value)
    finally:
        engine.dispose()
