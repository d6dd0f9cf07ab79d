"""Background work, declared by the part of the code that owns it and run by `samleng worker`.

A domain (or a flow that crosses domains) lists its jobs as `Task`s in its `tasks.py`; the
scheduler (service/worker.py) collects them and runs them by lane and interval. Nothing here
knows any domain: a task is a name and something to call.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

PASS = "pass"  # run once in every pass of the worker, in the order the scheduler lists them
URGENT = "urgent"  # run on its own, every few tenths of a second, beside the pass


@dataclass(frozen=True)
class Task:
    """One job of the worker.

    `run` returns a count (or a dict of counts, or None); `key` names the count in the pass's
    result (`samleng worker --once` prints it). `every_seconds`: at most this often (0: every
    pass). `more` says, after a run, that work is left and the next pass should start at once.
    `wake`: a task of the urgent lane runs at once when another part of the worker sets it,
    instead of waiting out `every_seconds`.
    """

    name: str
    run: Callable[[], Any]
    key: str | None = None
    every_seconds: float = 0.0
    lane: str = PASS
    more: Callable[[], bool] | None = None
    wake: threading.Event | None = None


@dataclass
class TaskContext:
    """What every task may use: the database engine, the settings, the stop request (SIGTERM),
    an SMS driver a caller (a test) hands in instead of the configured one, and the worker's
    one quick reading at a time (`quick_reading`: its pass and its urgent lane never read the same
    new reports side by side)."""

    engine: Any
    settings: Any
    stopping: threading.Event = field(default_factory=threading.Event)
    sms_driver: Any = None
    quick_reading: threading.Lock = field(default_factory=threading.Lock)

    def database_up(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
            return True
        except Exception:
            return False
