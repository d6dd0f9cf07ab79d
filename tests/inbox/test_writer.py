"""The writer: group commit without savepoints, failures isolated, lanes keep one sender's order."""

from __future__ import annotations

from concurrent.futures import wait

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from service.inbox.writer import Writer
from service.reports.models import Reporter
from tests.support.writer import held_batch

REPORTER = Reporter.__table__


def add_reporter(key: str):  # type: ignore[no-untyped-def]
    def unit(session: Session) -> str:
        session.connection().execute(insert(REPORTER).values(pseudonym=key, channel="sms"))
        return key
    return unit


def count(engine, prefix: str = "") -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(REPORTER).where(REPORTER.c.pseudonym.like(prefix + "%"))).scalar_one()


def test_a_batch_commits_together(writer, engine) -> None:  # type: ignore[no-untyped-def]
    futures = held_batch(writer, [add_reporter(f"batch-{i}") for i in range(20)])
    assert [f.result() for f in futures] == [f"batch-{i}" for i in range(20)]
    assert count(engine, "batch-") == 20
    assert writer.batches < 1 + 20  # grouped: fewer commits than units


def test_a_failing_unit_fails_alone(writer, engine) -> None:  # type: ignore[no-untyped-def]
    def broken(_session: Session) -> None:
        raise ValueError("a bug in one unit")

    futures = held_batch(writer, [add_reporter("ok-1"), broken, add_reporter("ok-2")])
    assert futures[0].result() == "ok-1" and futures[2].result() == "ok-2"
    with pytest.raises(ValueError):
        futures[1].result()
    assert count(engine, "ok-") == 2


def test_a_lost_uniqueness_race_runs_the_unit_again(writer, engine) -> None:  # type: ignore[no-untyped-def]
    with engine.begin() as conn:  # "another process" stored it already
        conn.execute(insert(REPORTER).values(pseudonym="raced", channel="sms"))
    calls: list[str] = []

    def find_or_insert(session: Session) -> str:
        # The first attempt missed the other's row (as if it had not been committed yet when read).
        conn = session.connection()
        found = conn.execute(select(REPORTER.c.id).where(REPORTER.c.pseudonym == "raced")).first() if calls else None
        calls.append("call")
        if found is not None:
            return "found"
        conn.execute(insert(REPORTER).values(pseudonym="raced", channel="sms"))
        return "inserted"

    futures = held_batch(writer, [add_reporter("beside-1"), find_or_insert, add_reporter("beside-2")])
    assert futures[1].result() == "found"
    assert [f.result() for f in (futures[0], futures[2])] == ["beside-1", "beside-2"]
    assert count(engine, "raced") == 1 and count(engine, "beside-") == 2


def test_a_unit_that_keeps_conflicting_fails_with_integrity_error(writer, engine) -> None:  # type: ignore[no-untyped-def]
    with engine.begin() as conn:
        conn.execute(insert(REPORTER).values(pseudonym="taken", channel="sms"))
    future = writer.submit(add_reporter("taken"))
    with pytest.raises(IntegrityError):
        future.result(timeout=30)


def test_one_key_keeps_its_order_across_lanes(engine) -> None:  # type: ignore[no-untyped-def]
    writer = Writer(engine, lanes=4)
    writer.start()
    seen: dict[str, list[int]] = {"alice": [], "bob": []}
    try:
        futures = []
        for i in range(40):
            for key in seen:
                futures.append(writer.submit(lambda _s, key=key, i=i: seen[key].append(i), key=key))
        wait(futures, timeout=30)
        assert all(f.exception() is None for f in futures)
    finally:
        writer.stop()
    assert seen == {"alice": list(range(40)), "bob": list(range(40))}
