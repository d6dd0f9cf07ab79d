"""The writer's fast path (service/kit/fastsql.py): Core statements run on the DBAPI cursor.

Rows written by the fast path must be the rows the ORM writes for the same values, column by
column as stored and as read back (types included); driver errors must come out as SQLAlchemy's;
and the writer's guarantees (a failing unit fails alone, one MessageSid one report) must hold.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bots.sms.routes import store_sms
from service.inbox.models import InboundMessage as InboundRow
from service.intake import service as intake
from service.intake.models import Conversation
from service.intake.schemas import InboundMessage
from service.kit.clock import now
from service.kit.crypto import receipt_hash, seal, unseal
from service.reports import service as reports
from service.reports.models import Report, ReportEvent, Reporter
from tests.support.writer import held_batch

ICT = timezone(timedelta(hours=7))


def raw_rows(engine, table: str, ids: list[int]) -> list[dict]:  # type: ignore[no-untyped-def]
    """Rows as the driver hands them back (no SQLAlchemy type processing)."""
    with engine.connect() as conn:
        result = conn.exec_driver_sql(
            f"SELECT * FROM {table} WHERE id IN ({', '.join(str(int(i)) for i in ids)}) ORDER BY id")
        rows = [dict(row._mapping) for row in result]
    for row in rows:  # bytes from SQLite, memoryview from psycopg: compare the bytes
        for key, value in row.items():
            if isinstance(value, memoryview):
                row[key] = bytes(value)
    return rows


def assert_same(fast: object, orm: object, *, skip: set[str]) -> None:
    """Field by field, values and their Python types, read back through the ORM."""
    for column in type(fast).__table__.columns:  # type: ignore[attr-defined]
        if column.key in skip:
            continue
        a, b = getattr(fast, column.key), getattr(orm, column.key)
        assert a == b, column.key
        assert type(a) is type(b), column.key


def assert_same_raw(fast: dict, orm: dict, *, skip: set[str]) -> None:
    assert fast.keys() == orm.keys()
    for key in fast:
        if key not in skip:
            assert fast[key] == orm[key], key
            assert type(fast[key]) is type(orm[key]), key


def test_reporter_and_report_rows_match_the_orm(engine, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    stamp = now()
    monkeypatch.setattr(reports, "now", lambda: stamp)  # the reporter's created_at
    deferred = (stamp + timedelta(hours=1)).astimezone(ICT)  # another zone: stored as UTC by both
    narrative = "The nurse asked me for 20000 riel, call 012 345 678"
    fields = dict(urgency="urgent", category="fees", category_source="triage", triage_confidence=0.75,
                  triage_language="en", triage_reasons=["fee", {"word": "riel", "weight": 1.5}], population="pwud")
    events = [("triaged", "triage", {"category": "fees", "score": 0.75, "words": ["riel"], "flag": True})]
    with Session(engine, expire_on_commit=False) as session:
        ref = reports.reporter_ref(session, channel="sms", address="+85512000001")
        fast_id, code = reports.insert_report(
            session, channel="sms", reporter_id=ref.id, narrative=narrative, language="en", at=stamp,
            assisted=True, deferred_until=deferred, events=events, **fields)  # type: ignore[arg-type]
        orm_reporter = Reporter(pseudonym="orm-reporter", channel="sms", created_at=stamp)
        session.add(orm_reporter)
        session.flush()
        orm_report = Report(
            receipt_hash=receipt_hash("ORMCODE01"), channel="sms", reporter_id=orm_reporter.id,
            narrative_sealed=seal(narrative), narrative_masked=reports.mask(narrative), language="en",
            assisted=True, created_at=stamp, updated_at=stamp, deferred_until=deferred, **fields)
        session.add(orm_report)
        session.flush()
        for kind, actor, detail in [("received", "system", {"channel": "sms"}), *events,
                                    ("deferred", "system", {"reason": "reports_per_hour"})]:
            session.add(ReportEvent(report_id=orm_report.id, kind=kind, actor=actor, detail=detail, created_at=stamp))
        session.commit()
        orm_ids = (orm_reporter.id, orm_report.id)

    # As stored: the same bytes/strings/numbers, column by column.
    fast_reporter_raw, orm_reporter_raw = raw_rows(engine, "reporter", [ref.id, orm_ids[0]])
    assert_same_raw(fast_reporter_raw, orm_reporter_raw, skip={"id", "pseudonym"})
    fast_raw, orm_raw = raw_rows(engine, "report", [fast_id, orm_ids[1]])
    assert_same_raw(fast_raw, orm_raw, skip={"id", "receipt_hash", "reporter_id", "narrative_sealed"})
    with engine.connect() as conn:
        event_ids = conn.execute(select(ReportEvent.id, ReportEvent.report_id).order_by(ReportEvent.id)).all()
    fast_events = raw_rows(engine, "report_event", [i for i, r in event_ids if r == fast_id])
    orm_events = raw_rows(engine, "report_event", [i for i, r in event_ids if r == orm_ids[1]])
    assert len(fast_events) == len(orm_events) == 3
    for a, b in zip(fast_events, orm_events):
        assert_same_raw(a, b, skip={"id", "report_id"})

    # Read back through the ORM: the same values and types.
    with Session(engine) as session:
        fast_report, orm_report = session.get_one(Report, fast_id), session.get_one(Report, orm_ids[1])
        assert_same(fast_report, orm_report, skip={"id", "receipt_hash", "reporter_id", "narrative_sealed"})
        assert unseal(fast_report.narrative_sealed) == narrative  # type: ignore[arg-type]
        assert fast_report.receipt_hash == receipt_hash(code)
        assert fast_report.deferred_until == deferred and fast_report.deferred_until.tzinfo is not None  # type: ignore[union-attr]
        assert fast_report.status == "received" and fast_report.assisted is True  # column defaults filled in
        assert_same(session.get_one(Reporter, ref.id), session.get_one(Reporter, orm_ids[0]),
                    skip={"id", "pseudonym"})
        kinds = session.exec(select(ReportEvent.kind, ReportEvent.detail).where(  # type: ignore[call-overload]
            ReportEvent.report_id == fast_id).order_by(ReportEvent.id)).all()
        assert [tuple(k) for k in kinds] == [("received", {"channel": "sms"}), ("triaged", events[0][2]),
                                             ("deferred", {"reason": "reports_per_hour"})]


def test_reporter_ref_reads_back_what_the_orm_reads(engine) -> None:  # type: ignore[no-untyped-def]
    opted = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=ICT)
    with Session(engine, expire_on_commit=False) as session:
        ref = reports.reporter_ref(session, channel="sms", address="+85512000002")
        assert ref.new
        reports.update_reporter(session, ref, language="km", opted_out_at=opted)
        session.commit()
    with Session(engine) as session:
        again = reports.reporter_ref(session, channel="sms", address="+85512000002")
        orm = session.get_one(Reporter, ref.id)
    assert not again.new and again.id == ref.id and again.pseudonym == orm.pseudonym
    assert (again.language, again.opted_out_at) == (orm.language, orm.opted_out_at) == ("km", opted)
    assert type(again.opted_out_at) is type(orm.opted_out_at) and again.opted_out_at.tzinfo is not None  # type: ignore[union-attr]


def test_inbox_and_conversation_rows_match_the_orm(engine, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    stamp = now()
    monkeypatch.setattr(reports, "now", lambda: stamp)
    sealed = seal("reply text")
    with Session(engine, expire_on_commit=False) as session:
        ref = reports.reporter_ref(session, channel="sms", address="+85512000003")
        other = Reporter(pseudonym="orm-conv", channel="sms", created_at=stamp)
        session.add(other)
        session.flush()
        conn = session.connection()
        values = {"channel": "sms", "reporter_id": ref.id, "body_masked": "hello ***", "spooled": True,
                  "received_at": stamp, "kind": "report", "report_id": None, "reply_sealed": sealed}
        fast_full = intake._INSERT_INBOX.scalar(conn, {"external_id": "SM-fast-1", **values})
        # Columns left out get the same Python-side defaults as through the ORM (kind, spooled, body_masked).
        fast_bare = intake._INSERT_INBOX.scalar(conn, {"channel": "sms", "external_id": "SM-fast-2",
                                                        "received_at": stamp})
        orm_full = InboundRow(external_id="SM-orm-1", **values)
        orm_bare = InboundRow(channel="sms", external_id="SM-orm-2", received_at=stamp)
        conversation = {"channel": "sms", "report_id": None, "step": "category", "language": "km", "reasks": 0,
                        "code_sealed": sealed, "updated_at": stamp, "expires_at": stamp + timedelta(minutes=30)}
        intake._INSERT_CONVERSATION.execute(conn, {"reporter_id": ref.id, **conversation})
        session.add_all([orm_full, orm_bare, Conversation(reporter_id=other.id, **conversation)])
        session.commit()
        orm_ids = [orm_full.id, orm_bare.id]
    rows = raw_rows(engine, "inbound_message", [fast_full, fast_bare, *orm_ids])  # type: ignore[list-item]
    assert_same_raw(rows[0], rows[2], skip={"id", "external_id"})
    assert_same_raw(rows[1], rows[3], skip={"id", "external_id"})
    with engine.connect() as conn:
        conv_ids = [i for (i,) in conn.execute(select(Conversation.id).order_by(Conversation.id))]
    fast_conv, orm_conv = raw_rows(engine, "conversation", conv_ids)
    assert_same_raw(fast_conv, orm_conv, skip={"id", "reporter_id"})
    with Session(engine) as session:
        assert_same(session.get_one(InboundRow, fast_full), session.get_one(InboundRow, orm_ids[0]),
                    skip={"id", "external_id"})
        assert_same(session.get_one(InboundRow, fast_bare), session.get_one(InboundRow, orm_ids[1]),
                    skip={"id", "external_id"})
        fast_c, orm_c = session.get_one(Conversation, conv_ids[0]), session.get_one(Conversation, conv_ids[1])
        assert_same(fast_c, orm_c, skip={"id", "reporter_id"})
        assert unseal(fast_c.code_sealed) == "reply text"  # type: ignore[arg-type]
        stored = intake._stored_reply(session, InboundMessage(channel="sms", external_id="SM-fast-1", address="x",
                                                              text="", received_at=stamp))
    assert stored is not None and (stored.text, stored.kind, stored.duplicate) == ("reply text", "report", True)


def test_driver_errors_come_out_as_sqlalchemy_errors_without_parameters(engine) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        conn = session.connection()
        reports._INSERT_REPORTER.scalar(conn, {"pseudonym": "dup-key", "channel": "chan-x7q", "created_at": now()})
        with pytest.raises(IntegrityError) as raised:
            reports._INSERT_REPORTER.scalar(conn, {"pseudonym": "dup-key", "channel": "chan-x7q", "created_at": now()})
        # Parameters are left out of the message (they may hold pseudonyms or sealed text).
        assert "chan-x7q" not in str(raised.value) and "INSERT INTO reporter" in str(raised.value)
        session.rollback()


# -- the writer with the fast path --------------------------------------------------------------

def message(sid: str, address: str, text_: str = "The clinic asked me to pay before testing.") -> InboundMessage:
    return InboundMessage(channel="sms", external_id=sid, address=address, text=text_, received_at=now())


def counts(engine) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return tuple(conn.execute(select(func.count()).select_from(t)).scalar_one()  # type: ignore[return-value]
                     for t in (Report.__table__, InboundRow.__table__, Reporter.__table__))


def test_a_failing_unit_in_a_fast_path_batch_fails_alone(writer, engine, settings) -> None:  # type: ignore[no-untyped-def]
    def half_written_then_broken(session: Session) -> None:
        store_sms(session, message("SM" + "b" * 32, "+85512000011"), settings)  # fast-path rows written...
        raise ValueError("...then a bug")

    futures = held_batch(writer, [
        lambda s: store_sms(s, message("SM" + "a" * 32, "+85512000010"), settings),
        half_written_then_broken,
        lambda s: store_sms(s, message("SM" + "c" * 32, "+85512000012"), settings),
    ])
    assert futures[0].result().kind == "report" and futures[2].result().kind == "report"
    with pytest.raises(ValueError):
        futures[1].result()
    assert counts(engine) == (2, 2, 2)  # nothing of the broken unit was kept
    with engine.connect() as conn:
        sids = set(conn.execute(select(InboundRow.external_id)).scalars())
    assert sids == {"SM" + "a" * 32, "SM" + "c" * 32}


def test_the_same_message_sid_twice_in_one_batch_is_one_report(writer, engine, settings) -> None:  # type: ignore[no-untyped-def]
    sid = "SM" + "d" * 32
    futures = held_batch(writer, [lambda s: store_sms(s, message(sid, "+85512000020"), settings)] * 3)
    replies = [f.result() for f in futures]
    assert [r.duplicate for r in replies] == [False, True, True]
    assert len({(r.text, r.report_id) for r in replies}) == 1 and replies[0].report_id is not None
    assert counts(engine) == (1, 1, 1)


def test_a_uniqueness_race_through_the_fast_path_is_run_again(writer, engine, settings) -> None:  # type: ignore[no-untyped-def]
    sid = "SM" + "e" * 32
    # "Another process" stored this MessageSid between our read and our write: the fast path's
    # INSERT raises IntegrityError, the batch is rolled back, the unit runs alone and finds it.
    with Session(engine) as session:
        first = intake.receive(session, message(sid, "+85512000030", "HELP"), settings=settings)
        session.commit()
    calls = []

    def unit(session: Session):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 1:  # the first run misses the stored row, as in a race
            original = intake._stored_reply
            intake._stored_reply = lambda *_a, **_k: None  # type: ignore[assignment]
            try:
                return store_sms(session, message(sid, "+85512000030", "HELP"), settings)
            finally:
                intake._stored_reply = original  # type: ignore[assignment]
        return store_sms(session, message(sid, "+85512000030", "HELP"), settings)

    futures = held_batch(writer, [lambda s: store_sms(s, message("SM" + "f" * 32, "+85512000031"), settings), unit])
    assert futures[0].result().kind == "report"
    again = futures[1].result()
    assert again.duplicate and again.report_id == first.report_id and again.text == first.text
    assert first.kind == "help" and len(calls) == 2 and counts(engine) == (1, 2, 2)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM inbound_message WHERE external_id = :s"), {"s": sid}).scalar_one() == 1
