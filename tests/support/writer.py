"""The inbox writer (service/inbox/writer.py) for tests: a running `writer` fixture, and a held batch."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import wait

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from service.inbox.writer import Writer


@pytest.fixture
def writer(engine: Engine) -> Iterator[Writer]:
    """A started writer on the test database (two lanes on PostgreSQL, one on SQLite)."""
    w = Writer(engine, lanes=2 if engine.dialect.name == "postgresql" else 1)
    w.start()
    yield w
    w.stop()


def held_batch(writer: Writer, units: list) -> list:  # type: ignore[type-arg]
    """Submit `units` while the writer is busy, so that they form one batch."""
    gate = threading.Event()
    started = threading.Event()

    def blocker(_session: Session) -> None:
        started.set()
        gate.wait(10)

    first = writer.submit(blocker, key="same-lane")
    assert started.wait(10)
    futures = [writer.submit(unit, key="same-lane") for unit in units]
    gate.set()
    wait([first, *futures], timeout=30)
    return futures
