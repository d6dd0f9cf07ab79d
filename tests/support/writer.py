"""Helpers for tests of the inbox writer (service/inbox/writer.py)."""

from __future__ import annotations

import threading
from concurrent.futures import wait

from sqlmodel import Session

from service.inbox.writer import Writer


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
