"""Fixtures of the inbox writer's tests."""

from __future__ import annotations

import pytest

from service.inbox.writer import Writer


@pytest.fixture
def writer(engine):  # type: ignore[no-untyped-def]
    w = Writer(engine, lanes=2 if engine.dialect.name == "postgresql" else 1)
    w.start()
    yield w
    w.stop()
