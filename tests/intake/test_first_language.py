"""A new sender's first report keeps the language its text shows, stored with the sender's new row
(no second statement to set it); a first message that is a command keeps none, as before."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlmodel import Session, select

from service.intake.schemas import InboundMessage
from service.intake.service import receive
from service.reports.models import Report, Reporter


@contextmanager
def statements(session: Session) -> Iterator[list[str]]:
    """The SQL SQLite runs on this session's connection (empty on PostgreSQL: no trace hook there)."""
    seen: list[str] = []
    raw = session.connection().connection.driver_connection
    traced = hasattr(raw, "set_trace_callback")
    if traced:
        raw.set_trace_callback(seen.append)
    try:
        yield seen
    finally:
        if traced:
            raw.set_trace_callback(None)


def sms(external_id: str, address: str, text: str, *, assisted: bool = False) -> InboundMessage:
    return InboundMessage(channel="sms", external_id=external_id, address=address, text=text, assisted=assisted)


def test_a_new_senders_first_report_stores_its_language_with_the_sender(engine, settings, places) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as s, statements(s) as seen:
        reply = receive(s, sms("SMfirstlang01", "+85512000201", "A enfermeira pediu dinheiro pelo tratamento"),
                        settings=settings)
        s.commit()
    assert reply.kind == "report" and reply.language == "pt"
    with Session(engine) as s:
        reporter = s.exec(select(Reporter)).one()
        report = s.exec(select(Report)).one()
    assert reporter.language == report.language == "pt"
    if engine.dialect.name == "sqlite":
        assert any(q.lstrip().upper().startswith("INSERT INTO REPORTER") for q in seen), seen
        assert not [q for q in seen if q.lstrip().upper().startswith("UPDATE REPORTER")], (
            "the language goes in with the new row, not in a second statement"
        )


def test_a_first_message_that_is_a_command_keeps_no_language(engine, settings, places) -> None:  # type: ignore[no-untyped-def]
    address = "+85512000202"
    with Session(engine) as s:
        reply = receive(s, sms("SMfirstlang02", address, "HELP"), settings=settings)
        s.commit()
    assert reply.kind == "help"
    with Session(engine) as s:
        assert s.exec(select(Reporter)).one().language is None
    # Their first report, in Khmer, is answered in Khmer and keeps Khmer (the update, as before).
    with Session(engine) as s:
        reply = receive(s, sms("SMfirstlang03", address, "គ្រូពេទ្យសុំលុយខ្ញុំមុនពេលឱ្យថ្នាំ"), settings=settings)
        s.commit()
    assert reply.kind == "report" and reply.language == "km"
    with Session(engine) as s:
        assert s.exec(select(Reporter)).one().language == "km"


def test_an_outreach_workers_report_keeps_no_language_for_the_worker(engine, settings, places) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        reply = receive(s, sms("SMfirstlang04", "+85512000203", "The nurse asked my client for money", assisted=True),
                        settings=settings)
        s.commit()
    assert reply.kind == "report"
    with Session(engine) as s:
        assert s.exec(select(Reporter)).one().language is None
        assert s.exec(select(Report)).one().reporter_id is None
