"""One writer per process, with group commit.

Webhook handlers hand their unit of work to a single thread that owns the write
connection. It takes whatever has queued up, runs each unit in its own savepoint
inside one transaction, and commits once: one fsync for many reports, and no
writers fighting over SQLite's lock. A unit that raises fails alone; a commit that
fails fails the whole batch, and each caller decides what to do (the SMS webhook
spools).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlmodel import Session

log = logging.getLogger(__name__)
T = TypeVar("T")
_STOP = object()


class WriterUnavailable(RuntimeError):
    """The writer is stopped."""


class Writer:
    def __init__(self, engine: Engine, *, max_batch: int = 64, name: str = "samleng-writer") -> None:
        self.engine = engine
        self.max_batch = max_batch
        self._queue: queue.Queue[Any] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._started = False
        self.batches = 0
        self.units = 0

    def start(self) -> None:
        if not self._started:
            self._started = True
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        if self._started:
            self._queue.put(_STOP)
            self._thread.join(timeout)
            self._started = False

    def submit(self, unit: Callable[[Session], T]) -> Future[T]:
        """Queue a unit of work; the future resolves after its batch has committed."""
        if not self._started:
            raise WriterUnavailable("writer not started")
        future: Future[T] = Future()
        self._queue.put((unit, future))
        return future

    async def run(self, unit: Callable[[Session], T]) -> T:
        """Run a unit of work on the writer and await its committed result."""
        return await asyncio.wrap_future(self.submit(unit))

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            batch = [item]
            while len(batch) < self.max_batch:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is _STOP:
                    self._queue.put(_STOP)
                    break
                batch.append(nxt)
            self._commit(batch)

    def _commit(self, batch: list[tuple[Callable[[Session], Any], Future[Any]]]) -> None:
        results: list[tuple[Future[Any], bool, Any]] = []
        try:
            with Session(self.engine, expire_on_commit=False) as session:
                session.connection()  # begin (and take SQLite's write lock) once, for the whole batch
                for unit, future in batch:
                    if not future.set_running_or_notify_cancel():
                        continue
                    try:
                        with session.begin_nested():
                            results.append((future, True, unit(session)))
                    except Exception as exc:  # one unit's failure must not sink the batch
                        results.append((future, False, exc))
                session.commit()
        except Exception as exc:
            log.warning("writer batch of %d failed to commit: %s", len(batch), type(exc).__name__)
            for _, future in batch:
                if not future.done():
                    if future.running() or future.set_running_or_notify_cancel():
                        future.set_exception(exc)
            return
        self.batches += 1
        self.units += len(results)
        for future, ok, value in results:
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)
