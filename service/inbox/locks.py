"""Advisory locks between processes on PostgreSQL.

`PersonLocks`: one person's updates handled by one process at a time, across every `serve` process.
`only_one`: a duty that one process at a time may run (the spool replay, whose folder every
container shares).

PostgreSQL: a session-level advisory lock keyed by the person's pseudonym, taken with
`pg_try_advisory_lock` (polled, so no thread waits inside the database) on one connection
that this process keeps for its locks. A process that dies (even by SIGKILL) loses its
connection and so its locks: nobody waits for a dead process. SQLite runs one `serve`
process, whose in-process lock per person is enough: here the lock is a no-op.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import OperationalError

log = logging.getLogger(__name__)
# The first of the two 32-bit keys: keeps these locks apart from any other advisory lock.
NAMESPACE = 0x53414D4C  # "SAML"
DUTIES = NAMESPACE + 1  # the keys of `only_one`


def lock_key(person: str) -> int:
    """A signed 32-bit number from the pseudonym (collisions only make two people wait for each other)."""
    return int.from_bytes(hashlib.blake2b(person.encode(), digest_size=4).digest(), "big", signed=True)


class PersonLocks:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.enabled = engine.dialect.name == "postgresql"
        self._conn: Connection | None = None
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="samleng-person-lock") if self.enabled else None
        self._use: asyncio.Lock | None = None

    async def _call(self, sql: str, key: int) -> Any:
        assert self._thread is not None
        if self._use is None:
            self._use = asyncio.Lock()

        def run() -> Any:
            if self._conn is None or self._conn.closed or self._conn.invalidated:
                self._conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            try:
                return self._conn.execute(text(sql), {"ns": NAMESPACE, "key": key}).scalar()
            except Exception:
                # The connection is gone, and with it every lock it held: start afresh next time.
                conn, self._conn = self._conn, None
                if conn is not None:
                    conn.invalidate()
                raise

        async with self._use:
            return await asyncio.get_running_loop().run_in_executor(self._thread, run)

    @asynccontextmanager
    async def hold(self, person: str | None) -> AsyncIterator[None]:
        """Wait until this process holds `person`'s lock; release it on leaving."""
        if not self.enabled or not person:
            yield
            return
        key = lock_key(person)
        delay = 0.005
        while not await self._call("SELECT pg_try_advisory_lock(:ns, :key)", key):
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.1)
        try:
            yield
        finally:
            try:
                await self._call("SELECT pg_advisory_unlock(:ns, :key)", key)
            except Exception as exc:  # the connection is gone: the database released the lock already
                log.warning("person lock not released cleanly: %s", type(exc).__name__)

    def close(self) -> None:
        if self._thread is not None:

            def shut() -> None:
                if self._conn is not None:
                    self._conn.close()
                    self._conn = None

            self._thread.submit(shut).result(timeout=10)
            self._thread.shutdown(wait=False)


@contextmanager
def only_one(engine: Engine, duty: str, *, unreachable: bool | None = None) -> Iterator[bool]:
    """True inside the block when this process holds the duty's lock (another process holding it:
    False, at once, nothing waits). Always True on SQLite, where one worker runs at a time.
    `unreachable`: what to yield when the database cannot be reached at all (None: raise), for a
    duty that has its own way of waiting for it (spool replay keeps every file)."""
    if engine.dialect.name != "postgresql":
        yield True
        return
    params = {"ns": DUTIES, "key": lock_key(duty)}
    try:
        connection = engine.connect()
    except OperationalError:
        if unreachable is None:
            raise
        yield unreachable
        return
    with connection.execution_options(isolation_level="AUTOCOMMIT") as conn:
        held = bool(conn.execute(text("SELECT pg_try_advisory_lock(:ns, :key)"), params).scalar())
        try:
            yield held
        finally:
            if held:
                conn.execute(text("SELECT pg_advisory_unlock(:ns, :key)"), params)
