"""One writer per process, with group commit.

Webhook handlers hand their unit of work to a single thread that owns the write
connection. It takes whatever has queued up, runs every unit in one transaction
and commits once: one fsync for many reports, no writers fighting over SQLite's
lock, and no savepoint per unit (each one costs two round trips on PostgreSQL).
If any unit raises or the commit fails, the whole batch is rolled back and its
units are run again one by one, each in its own transaction: a unit that raises
fails alone, a unit that lost a uniqueness race to another process runs once
more (and then finds what the other stored), a deadlock or serialization failure
(PostgreSQL aborting one of two transactions that crossed) is retried the same way
and is not taken for an outage, and when the database is down every
unit fails and each caller decides what to do (the SMS webhook spools). Units
must therefore be plain database work that can safely run twice.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import queue
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlmodel import Session

log = logging.getLogger(__name__)
T = TypeVar("T")
_STOP = object()


class WriterUnavailable(RuntimeError):
    """The writer is stopped."""


class _UnitFailed(Exception):
    """A unit of a batch raised (its own error is the __cause__)."""


# Errors that mean the database cannot take writes now, whatever the unit: no retry one by one.
DB_UNAVAILABLE = (OperationalError, InterfaceError)
# ... except these two, which PostgreSQL raises to one of two transactions that got in each
# other's way (e.g. two lanes, or two processes, storing copies of one update in opposite
# order): deadlock detected, could not serialize. The transaction is lost, the database is fine.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})
ALONE_ATTEMPTS = 5


def is_conflict(exc: BaseException) -> bool:
    """A deadlock or serialization failure: run the work again, it is not an outage."""
    orig = getattr(exc, "orig", None)
    return isinstance(exc, OperationalError) and getattr(orig, "sqlstate", None) in RETRYABLE_SQLSTATES


class Writer:
    """`lanes` writer threads (1 for SQLite, whose writers take turns anyway; a few for
    PostgreSQL, so that one lane's round trips overlap another's Python work). Units with
    the same `key` (e.g. the sender) always go to the same lane, so one person's messages
    are handled in the order they came."""

    def __init__(self, engine: Engine, *, max_batch: int = 64, lanes: int = 1, name: str = "samleng-writer") -> None:
        self.engine = engine
        self.max_batch = max_batch
        self.name = name
        self._queues: list[queue.Queue[Any]] = [queue.Queue() for _ in range(max(1, lanes))]
        self._threads: list[threading.Thread] = []
        self._next = itertools.count()
        self._started = False
        self.batches = 0
        self.units = 0

    @property
    def lanes(self) -> int:
        return len(self._queues)

    def start(self) -> None:
        if not self._started:
            self._started = True
            self._threads = [
                threading.Thread(target=self._run, args=(q,), name=f"{self.name}-{i}", daemon=True)
                for i, q in enumerate(self._queues)
            ]
            for thread in self._threads:
                thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        if self._started:
            for q in self._queues:
                q.put(_STOP)
            for thread in self._threads:
                thread.join(timeout)
            self._started = False

    def submit(self, unit: Callable[[Session], T], *, key: str | None = None) -> Future[T]:
        """Queue a unit of work; the future resolves after its batch has committed."""
        if not self._started:
            raise WriterUnavailable("writer not started")
        future: Future[T] = Future()
        # hash() of a str is salted per process: fine, lanes only live as long as the process.
        lane = (hash(key) if key is not None else next(self._next)) % len(self._queues)
        self._queues[lane].put((unit, future))
        return future

    async def run(self, unit: Callable[[Session], T], *, key: str | None = None) -> T:
        """Run a unit of work on the writer and await its committed result."""
        return await asyncio.wrap_future(self.submit(unit, key=key))

    def _run(self, lane: queue.Queue[Any]) -> None:
        while True:
            item = lane.get()
            if item is _STOP:
                return
            batch = [item]
            while len(batch) < self.max_batch:
                try:
                    nxt = lane.get_nowait()
                except queue.Empty:
                    break
                if nxt is _STOP:
                    lane.put(_STOP)
                    break
                batch.append(nxt)
            self._commit(batch)

    def _commit(self, batch: list[tuple[Callable[[Session], Any], Future[Any]]]) -> None:
        live = [(unit, future) for unit, future in batch if future.set_running_or_notify_cancel()]
        if not live:
            return
        try:
            values = self._run_together(live)
        except _UnitFailed as failed:
            # Nothing of the batch was kept. Run each unit alone, so that one bad unit fails alone.
            log.info(
                "writer batch of %d rolled back (%s); running its units one by one",
                len(live),
                type(failed.__cause__).__name__,
            )
            self._run_alone(live)
            return
        except Exception as exc:
            # The database itself failed (down, locked, disk full): every unit fails now.
            log.warning("writer batch of %d failed: %s", len(live), type(exc).__name__)
            for _, future in live:
                future.set_exception(exc)
            return
        self.batches += 1
        self.units += len(live)
        for (_, future), value in zip(live, values):
            future.set_result(value)

    def _run_together(self, live: list[tuple[Callable[[Session], Any], Future[Any]]]) -> list[Any]:
        """Every unit in one transaction and one commit: the fast path, no savepoints."""
        with Session(self.engine, expire_on_commit=False) as session:
            session.connection()  # begin (and take SQLite's write lock) once, for the whole batch
            values = []
            for unit, _ in live:
                try:
                    values.append(unit(session))
                except DB_UNAVAILABLE as exc:
                    if is_conflict(exc):
                        raise _UnitFailed() from exc
                    raise
                except Exception as exc:
                    raise _UnitFailed() from exc
            try:
                session.commit()
            except IntegrityError as exc:
                raise _UnitFailed() from exc
            except OperationalError as exc:
                if is_conflict(exc):
                    raise _UnitFailed() from exc
                raise
        return values

    def _run_alone(self, live: list[tuple[Callable[[Session], Any], Future[Any]]]) -> None:
        for unit, future in live:
            raced = False
            for attempt in range(1, ALONE_ATTEMPTS + 1):
                try:
                    with Session(self.engine, expire_on_commit=False) as session:
                        value = unit(session)
                        session.commit()
                except IntegrityError as exc:
                    # Another writer stored the same thing first: once more, the unit finds it.
                    if raced or attempt == ALONE_ATTEMPTS:
                        future.set_exception(exc)
                        break
                    raced = True
                    continue
                except OperationalError as exc:
                    if is_conflict(exc) and attempt < ALONE_ATTEMPTS:
                        time.sleep(random.uniform(0.005, 0.05) * attempt)  # let the other transaction finish
                        continue
                    log.warning("writer unit failed: %s", type(exc).__name__)
                    future.set_exception(exc)
                except Exception as exc:
                    log.warning("writer unit failed: %s", type(exc).__name__)
                    future.set_exception(exc)
                else:
                    self.batches += 1
                    self.units += 1
                    future.set_result(value)
                break
