"""PostgreSQL connections: tested before use only after sitting idle (service/db.py, PING_AFTER), and in UTC.

A connection idle across a server restart (here: its backend terminated) must be replaced
without the caller noticing; one used a moment ago is trusted without a round trip, and if it
died in that moment the statement fails as a disconnect and the pool starts afresh.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError

from service import db


def backend_pid(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()


def terminate(engine: Engine, pid: int) -> None:
    other = create_engine(engine.url, isolation_level="AUTOCOMMIT")  # a connection outside the pool
    with other.connect() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar_one()
    other.dispose()


@pytest.fixture
def pg(engine: Engine) -> Engine:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no server connection to lose")
    return engine


def test_an_idle_dead_connection_is_replaced_unnoticed(pg: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    pid = backend_pid(pg)
    assert backend_pid(pg) == pid  # the pool hands the same connection back
    terminate(pg, pid)
    monkeypatch.setattr(db, "PING_AFTER", 0.0)  # every pooled connection counts as idle
    assert backend_pid(pg) != pid  # pinged, found dead, replaced: no error reached the caller


def test_a_connection_used_a_moment_ago_is_not_pinged(pg: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db, "PING_AFTER", 3600.0)
    pid = backend_pid(pg)
    terminate(pg, pid)
    # no ping: the dead connection is used, and its statement fails as a disconnect ...
    with pytest.raises(DBAPIError) as failed, pg.connect() as conn:
        conn.exec_driver_sql("SELECT 1")
    assert failed.value.connection_invalidated
    # ... after which the pool opens a new connection
    assert backend_pid(pg) != pid


def test_a_pinged_connection_can_still_switch_to_autocommit(pg: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    # The queue's reads run in autocommit (read_only_options); a ping left inside a transaction
    # would make that switch fail ("can't change 'autocommit' now").
    from sqlmodel import Session

    monkeypatch.setattr(db, "PING_AFTER", 0.0)
    for _ in range(2):  # a brand-new connection, then a pooled one: both pinged
        with Session(pg) as session:
            conn = session.connection(execution_options=db.read_only_options(pg))
            assert conn.exec_driver_sql("SELECT 1").scalar_one() == 1


def test_sessions_run_in_utc_and_the_driver_hands_back_utc(pg: Engine) -> None:
    from datetime import timezone

    with pg.connect() as conn:
        assert conn.exec_driver_sql("SHOW TIME ZONE").scalar_one() == "UTC"
        value = conn.exec_driver_sql("SELECT TIMESTAMPTZ '2026-11-24 01:00:00+07'").scalar_one()
    assert value.tzinfo is timezone.utc and value.hour == 18  # no conversion left for UTCDateTime to do
