"""The review queue's read path (service/kit/fastsql.FastQuery) and UTCDateTime's fused reader.

FastQuery must hand back exactly the rows `conn.execute(statement).all()` hands back — values
and their Python types, datetimes aware in UTC — with the statement's own literal values and
IN lists compiled in, and the parameters named at run time really taking effect. UTCDateTime
must read every text SQLite may hold, and PostgreSQL's datetimes in any session time zone, as
aware UTC datetimes.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, bindparam, or_, select, text, tuple_
from sqlalchemy.exc import DBAPIError

from service.kit.fastsql import FastQuery
from service.kit.models import UTCDateTime

UTC = timezone.utc
T0 = datetime(2026, 11, 23, 18, 0, 0, 123456, tzinfo=UTC)
meta = MetaData()
probe = Table("fastquery_probe", meta, Column("id", Integer, primary_key=True), Column("name", String(40)),
              Column("at", UTCDateTime), Column("n", Integer))
Probe = namedtuple("Probe", ["id", "name", "at", "n"])


@pytest.fixture
def table(engine: Engine) -> Iterator[Table]:
    meta.create_all(engine)
    with engine.begin() as conn:
        conn.execute(probe.insert(), [
            {"id": i, "name": f"row {i}" if i % 3 else None, "at": T0 + timedelta(hours=i) if i % 4 else None,
             "n": i % 5} for i in range(1, 41)])
    yield probe
    meta.drop_all(engine)


def statement(at: datetime, after: tuple[datetime, int] | None = None):  # type: ignore[no-untyped-def]
    """The queue's shape: literal filters, an IN list, a time and a keyset position bound by name."""
    conds = [probe.c.n.in_([1, 2, 4]), probe.c.name.is_not(None),
             or_(probe.c.at.is_(None), probe.c.at <= bindparam("now", at, type_=UTCDateTime()))]
    if after is not None:
        conds.append(tuple_(probe.c.at, probe.c.id) > tuple_(bindparam("k_at", after[0], type_=UTCDateTime()),
                                                            bindparam("k_id", after[1])))
    return select(probe).where(*conds).order_by(probe.c.at, probe.c.id).limit(10)


def assert_same_rows(fast: list, slow: list) -> None:
    assert [tuple(r) for r in fast] == [tuple(r) for r in slow]
    for a, b in zip(fast, slow):
        assert [type(v) for v in a] == [type(v) for v in b]
        for v in a:
            if isinstance(v, datetime):
                assert v.tzinfo is UTC


def test_rows_are_what_sqlalchemy_returns(engine: Engine, table: Table) -> None:
    at = T0 + timedelta(hours=30)
    query = FastQuery(statement(at), Probe)
    with engine.connect() as conn:
        fast = query.all(conn, {"now": at})
        slow = conn.execute(statement(at)).all()
        nulls = select(probe).where(probe.c.at.is_(None)).order_by(probe.c.id)
        fast_nulls, slow_nulls = FastQuery(nulls, Probe).all(conn, {}), conn.execute(nulls).all()
    assert len(fast) == 10  # the filters, the IN list and the LIMIT compiled in
    assert_same_rows(fast, slow)
    assert all(type(r) is Probe and r.n in (1, 2, 4) and r.name for r in fast)
    assert_same_rows(fast_nulls, slow_nulls)
    assert len(fast_nulls) == 10 and all(r.at is None for r in fast_nulls)


def test_parameters_named_at_run_time_take_effect(engine: Engine, table: Table) -> None:
    built_at = T0 + timedelta(hours=30)
    query = FastQuery(statement(built_at, after=(T0, 0)))
    with engine.connect() as conn:
        for hours, k in ((2, 0), (10, 3), (35, 9), (100, 21)):
            at, after = T0 + timedelta(hours=hours), (T0 + timedelta(hours=k), k)
            fast = query.all(conn, {"now": at, "k_at": after[0], "k_id": after[1]})
            slow = conn.execute(statement(at, after=after)).all()
            assert_same_rows(fast, slow)
        assert [r[0] for r in fast] == [r[0] for r in slow] and fast  # the last one found rows
        # a statement built with one time and run with an earlier one sees fewer rows
        early = query.all(conn, {"now": T0, "k_at": T0 - timedelta(days=1), "k_id": 0})
    assert len(early) < len(query.all(engine.connect(), {"now": built_at, "k_at": T0 - timedelta(days=1), "k_id": 0}))


def test_driver_errors_come_out_as_sqlalchemy_errors(engine: Engine, table: Table) -> None:
    query = FastQuery(select(probe).where(probe.c.id > 0))
    meta.drop_all(engine)  # the table is gone under the compiled statement
    with engine.connect() as conn, pytest.raises(DBAPIError):
        query.all(conn, {})
    meta.create_all(engine)


@pytest.mark.parametrize("stored, expected", [
    ("2026-11-23 18:00:00.123456", T0),
    ("2026-11-23 18:00:00", T0.replace(microsecond=0)),
    ("2026-11-23T18:00:00.123456", T0),
    ("2026-11-24 01:00:00.123456+07:00", T0),   # text with an offset: converted, not relabelled
])
def test_sqlite_text_reads_as_aware_utc(engine: Engine, table: Table, stored: str, expected: datetime) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite stores datetimes as text")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO fastquery_probe (id, name, at, n) VALUES (99, 'x', :at, 1)"), {"at": stored})
        orm = conn.execute(select(probe.c.at).where(probe.c.id == 99)).scalar_one()
        fast = FastQuery(select(probe.c.at).where(probe.c.id == 99)).all(conn, {})[0][0]
    for value in (orm, fast):
        assert value == expected and value.tzinfo is UTC


def test_postgresql_reads_aware_utc_in_any_session_time_zone(engine: Engine, table: Table) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL hands back aware datetimes in the session's time zone")
    with engine.begin() as conn:
        conn.exec_driver_sql("SET LOCAL TIME ZONE 'Asia/Phnom_Penh'")
        orm = conn.execute(select(probe.c.at).where(probe.c.id == 1)).scalar_one()
        fast = FastQuery(select(probe.c.at).where(probe.c.id == 1)).all(conn, {})[0][0]
    for value in (orm, fast):
        assert value == T0 + timedelta(hours=1) and value.tzinfo is UTC


def test_a_parameter_the_statement_does_not_use_is_ignored(engine: Engine, table: Table) -> None:
    # as conn.execute does: the queue passes a whole keyset position to segments that use part of it
    at = T0 + timedelta(hours=30)
    with engine.connect() as conn:
        fast = FastQuery(statement(at)).all(conn, {"now": at, "k_at": T0, "k_id": 3})
        assert_same_rows(fast, conn.execute(statement(at), {"now": at, "k_at": T0, "k_id": 3}).all())
