"""Engine and sessions. SQLite is made durable (WAL + synchronous=FULL) and serialised
with BEGIN IMMEDIATE; PostgreSQL keeps its durable defaults."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.engine import make_url
from sqlmodel import Session

from service.config import Settings, get_settings
from service.kit import zones


# Execution option for a connection that only reads (the review queue's list): on SQLite it begins
# with a plain deferred BEGIN — a WAL snapshot that neither takes nor waits for the write lock.
READ_ONLY = "samleng_read_only"


def read_only_options(engine: Engine) -> dict[str, object]:
    """Execution options for a connection that only reads. SQLite: READ_ONLY (a deferred BEGIN, one
    WAL snapshot). PostgreSQL: autocommit, which saves the BEGIN and ROLLBACK round trips (each
    statement reads its own snapshot, as separate requests would)."""
    if engine.dialect.name == "sqlite":
        return {READ_ONLY: True}
    return {READ_ONLY: True, "isolation_level": "AUTOCOMMIT"}


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


SQLITE_MMAP_BYTES = 1 << 30  # address space, not memory: pages are shared with the OS cache
SQLITE_CACHE_KIB = 16384  # per connection


def build_engine(settings: Settings | None = None, *, url: str | None = None) -> Engine:
    """Create the engine for the configured database, with SQLite's durability pragmas."""
    settings = settings or get_settings()
    url = url or settings.database_url
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": settings.db_busy_timeout}, hide_parameters=True
        )  # errors and logs never carry a bound value
        busy_ms = int(settings.db_busy_timeout * 1000)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record) -> None:
            # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
            dbapi_connection.isolation_level = None
            cur = dbapi_connection.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            # A 200 to Twilio must survive a power cut: fsync the WAL on every commit.
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute(f"PRAGMA busy_timeout={busy_ms}")
            cur.execute("PRAGMA foreign_keys=ON")
            # Reads straight from the OS page cache through a memory map (no read() call and copy per page),
            # and a larger private cache per connection: the queue walks indexes of a million reports
            # from several threads at once (docs/benchmarks.md, review queue).
            cur.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
            cur.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
            cur.close()
            # The analytics count by each report's local day (service/analytics/localday.py).
            zones.register_sqlite(dbapi_connection)

        @event.listens_for(engine, "begin")
        def _begin(conn) -> None:
            # Take the write lock up front: a deferred read→write upgrade cannot wait on busy_timeout.
            # A connection marked READ_ONLY never writes, so it needs no lock (and waits for none).
            conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE")

        return engine
    engine = create_engine(url, pool_size=10, max_overflow=10, hide_parameters=True)
    _ping_when_idle(engine)

    @event.listens_for(engine, "connect")
    def _utc(dbapi_connection, _record) -> None:
        # Every time is stored and computed in UTC (the analytics say so explicitly, too); with the
        # session in UTC the driver hands back datetimes already in datetime.timezone.utc, where
        # a server configured otherwise would cost a conversion per value read.
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True
        try:
            dbapi_connection.execute("SET TIME ZONE 'UTC'")
        finally:
            dbapi_connection.autocommit = autocommit

    return engine


# A pooled PostgreSQL connection is tested ("pinged") before use only if it has sat unused in the
# pool for PING_AFTER seconds. SQLAlchemy's pool_pre_ping tests every checkout: one more round trip
# for every request, a fifth of the review queue's list on PostgreSQL (docs/benchmarks-history.md). A
# connection returned a moment ago is alive; one idle across a server restart is found dead here
# and silently replaced. A connection that dies within its first second of idleness fails its next
# statement: SQLAlchemy sees the disconnect, discards every pooled connection, and the request
# answers 503 (a webhook's sender then retries; docs/operations.md, "Database restarts").
PING_AFTER = 1.0


def _ping_when_idle(engine: Engine) -> None:
    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_connection, record) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection, record, _proxy) -> None:
        since = record.info.get("idle_since")
        if since is not None and time.monotonic() - since < PING_AFTER:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)  # the dialect's own ping (what pool_pre_ping runs)
        except engine.dialect.loaded_dbapi.Error as error:
            # The pool drops this connection and checks out (or opens) another one.
            raise exc.DisconnectionError("pooled connection was dead") from error


_engine: Engine | None = None


def get_engine() -> Engine:
    """The process-wide engine (created on first use)."""
    global _engine
    if _engine is None:
        _engine = build_engine()
    return _engine


def reset_engine() -> None:
    """Dispose the process-wide engine (tests and CLI use this after changing settings)."""
    global _engine
    if _engine is not None:
        _engine.dispose()
    _engine = None


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A unit of work: commit on success, roll back on error."""
    with Session(engine or get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def get_db(request: Request) -> Iterator[Session]:
    """A request's session on the app's engine: routes commit, it rolls back whatever they did not."""
    with Session(request.app.state.engine, expire_on_commit=False) as session:
        try:
            yield session
        finally:
            session.rollback()


SessionDep = Annotated[Session, Depends(get_db)]
