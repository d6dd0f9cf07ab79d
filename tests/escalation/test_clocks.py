"""Fair deadlines: a body counting working time, a clock paused while the case waits on the reporter,
and the worker's expiry honouring both (each test runs on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, col, select

from service.bodies.service import get_body
from service.escalation import clocks
from service.escalation import service as esc
from service.escalation.models import Escalation
from service.flows import deadlines
from service.intake.schemas import InboundMessage
from service.intake.service import receive
from service.intake.withdrawal import withdraw
from service.kit import clock
from service.kit.clock import as_utc
from service.reports.models import Report, ReportEvent
from tests.escalation.factories import make_case

PP = ZoneInfo("Asia/Phnom_Penh")
PHONE = "+85512444555"


@pytest.fixture
def s(session: Session, seeded) -> Session:  # type: ignore[no-untyped-def]
    return session


def move_to(controlled_clock, when: datetime) -> None:  # type: ignore[no-untyped-def]
    """Put this process's clock at `when` (it keeps running from there)."""
    controlled_clock.advance(when - clock.now())


def pp(*args: int) -> datetime:
    return datetime(*args, tzinfo=PP).astimezone(timezone.utc)  # type: ignore[misc]


def kinds(session: Session, report: Report) -> list[str]:
    return [e.kind for e in session.exec(select(ReportEvent).where(ReportEvent.report_id == report.id)
                                         .order_by(col(ReportEvent.id))).all()]


def working_body(session: Session, hours: int = 15) -> None:
    """The first rung of the default case (Chrey health centre) counts 15 working hours in Phnom Penh, KH holidays."""
    body = get_body(session, "chrey-hc")
    body.deadline_counting, body.deadline_hours = "working", hours
    body.time_zone, body.working_hours, body.holiday_country = "Asia/Phnom_Penh", "mon-fri 08:00-17:00", "KH"
    session.add(body)
    session.flush()


def close_to(a: datetime | None, b: datetime, slack: timedelta = timedelta(minutes=2)) -> bool:
    return a is not None and abs(as_utc(a) - b) <= slack


def test_an_existing_body_keeps_calendar_time(s: Session, controlled_clock) -> None:  # type: ignore[no-untyped-def]
    move_to(controlled_clock, pp(2027, 4, 9, 16))  # a Friday afternoon before Khmer New Year
    escalation = esc.escalate(s, make_case(s), actor="handler")
    assert escalation.counting == "calendar"
    assert as_utc(escalation.due_at) - as_utc(escalation.created_at) == timedelta(hours=72)  # type: ignore[arg-type]


def test_a_working_time_deadline_skips_the_weekend_and_khmer_new_year(s: Session, controlled_clock) -> None:  # type: ignore[no-untyped-def]
    working_body(s)
    move_to(controlled_clock, pp(2027, 4, 13, 10))  # Tuesday; 14-16 April is Khmer New Year
    report = make_case(s)
    preview = esc.preview(s, report)
    escalation = esc.escalate(s, report, actor="handler")
    # Tuesday 10-17 (7 h), holidays, weekend, Monday 19 April 08:00-16:00 (8 h): 15 working hours.
    assert escalation.counting == "working" and close_to(escalation.due_at, pp(2027, 4, 19, 16))
    assert close_to(preview.due_at, pp(2027, 4, 19, 16)) and report.due_at == escalation.due_at
    state = clocks.clock_state(s, report)
    assert state is not None and state.state == "working" and state.counting_now
    move_to(controlled_clock, pp(2027, 4, 14, 10))
    state = clocks.clock_state(s, report)
    assert state.state == "working" and not state.counting_now and state.holiday == "Khmer New Year's Day"
    assert close_to(state.period_start, pp(2027, 4, 19, 8))
    # The worker: in calendar time this body's 15 hours are long gone; in working time nothing is due.
    move_to(controlled_clock, pp(2027, 4, 19, 15, 50))
    assert deadlines.check_deadlines(s)["moved_up"] == 0 and escalation.status == "open"
    move_to(controlled_clock, pp(2027, 4, 19, 16, 5))
    assert deadlines.check_deadlines(s)["moved_up"] == 1 and escalation.status == "expired"


def test_a_question_to_the_reporter_pauses_the_clock_across_a_weekend_and_khmer_new_year(
        s: Session, controlled_clock) -> None:  # type: ignore[no-untyped-def]
    working_body(s)
    move_to(controlled_clock, pp(2027, 4, 8, 10))  # Thursday 10:00
    report = make_case(s, address=PHONE)
    escalation = esc.escalate(s, report, actor="handler")
    assert close_to(escalation.due_at, pp(2027, 4, 9, 16))  # Thursday 7 h + Friday 8 h
    # Friday 09:00: the handler asks the reporter a question and waits; 7 working hours are left.
    move_to(controlled_clock, pp(2027, 4, 9, 9))
    clocks.wait_for_reporter(s, report, actor="handler@khana")
    assert close_to(escalation.paused_at, pp(2027, 4, 9, 9)) and report.due_at is None
    assert clocks.clock_state(s, report).state == "paused"  # type: ignore[union-attr]
    # Past the original deadline the worker neither reminds nor expires a paused clock.
    move_to(controlled_clock, pp(2027, 4, 12, 9))
    assert deadlines.check_deadlines(s) == {"resumed": 0, "reminded": 0, "moved_up": 0, "exhausted": 0, "dossier_moved_up": 0, "dossier_expired": 0}
    assert escalation.status == "open"
    # Tuesday 13 April 16:00 the reporter answers by SMS: the answer goes on the case (masked), the
    # clock runs again with its 7 hours: Tuesday 16-17, Khmer New Year, the weekend, Monday 08:00-14:00.
    move_to(controlled_clock, pp(2027, 4, 13, 16))
    reply = receive(s, InboundMessage(channel="sms", external_id="SMans1", address=PHONE,
                                      text="It was the Chrey clinic, call 012 999 888"))
    assert reply.kind == "case_answer" and reply.report_id == report.id and "answer was added" in reply.text
    s.refresh(escalation)
    assert escalation.paused_at is None and close_to(escalation.due_at, pp(2027, 4, 19, 14))
    assert report.due_at == escalation.due_at and report.status == "escalated"
    assert kinds(s, report)[-3:] == ["clock_paused", "reporter_answer", "clock_resumed"]
    answer = s.exec(select(ReportEvent).where(ReportEvent.report_id == report.id,
                                              ReportEvent.kind == "reporter_answer")).one()
    assert answer.detail["text"] == "It was the Chrey clinic, call [phone]"
    resumed = s.exec(select(ReportEvent).where(ReportEvent.report_id == report.id,
                                               ReportEvent.kind == "clock_resumed")).one()
    assert resumed.detail["reason"] == "reporter_answered" and resumed.detail["paused_seconds"] >= 4 * 86400
    # Only one report: the answer did not become a new one; a second message is a new report again.
    assert len(s.exec(select(Report)).all()) == 1
    assert receive(s, InboundMessage(channel="sms", external_id="SMans2", address=PHONE,
                                     text="Another problem: no condoms")).kind != "case_answer"
    # The worker expires it at the new deadline, not before.
    move_to(controlled_clock, pp(2027, 4, 19, 13, 55))
    assert deadlines.check_deadlines(s)["moved_up"] == 0
    move_to(controlled_clock, pp(2027, 4, 19, 14, 5))
    assert deadlines.check_deadlines(s)["moved_up"] == 1


def test_a_calendar_clock_gets_the_paused_time_back(s: Session, controlled_clock) -> None:  # type: ignore[no-untyped-def]
    move_to(controlled_clock, pp(2027, 4, 9, 16))
    report = make_case(s, address=PHONE)
    escalation = esc.escalate(s, report, actor="handler")  # 72 h: Monday 16:00
    move_to(controlled_clock, pp(2027, 4, 10, 16))
    clocks.wait_for_reporter(s, report, actor="handler")
    move_to(controlled_clock, pp(2027, 4, 12, 16))  # two days later
    receive(s, InboundMessage(channel="sms", external_id="SMans3", address=PHONE, text="Yes, Chrey"))
    s.refresh(escalation)
    assert close_to(escalation.due_at, pp(2027, 4, 14, 16))  # the two paused days added
    assert close_to(escalation.remind_at, pp(2027, 4, 13, 22))  # the reminder keeps its lead (a quarter of 72 h)


def test_without_an_answer_the_clock_runs_again_after_the_answer_window(s: Session, controlled_clock) -> None:  # type: ignore[no-untyped-def]
    move_to(controlled_clock, pp(2027, 4, 9, 16))
    report = make_case(s, address=PHONE)
    escalation = esc.escalate(s, report, actor="handler")
    clocks.wait_for_reporter(s, report, actor="handler")
    controlled_clock.advance(clocks.ANSWER_WINDOW - timedelta(minutes=5))
    assert deadlines.check_deadlines(s)["resumed"] == 0
    controlled_clock.advance(timedelta(minutes=10))
    outcome = deadlines.check_deadlines(s)
    assert outcome["resumed"] == 1 and outcome["moved_up"] == 0
    assert escalation.paused_at is None and close_to(escalation.due_at, clock.now() + timedelta(hours=72))
    assert s.exec(select(ReportEvent).where(ReportEvent.kind == "clock_resumed")).one().detail["reason"] == "no_answer"
    # A later message from the reporter is a new report: the question has expired.
    assert receive(s, InboundMessage(channel="sms", external_id="SMans4", address=PHONE,
                                     text="late answer")).kind != "case_answer"


def test_a_body_answering_while_paused_ends_the_wait(s: Session, controlled_clock) -> None:  # type: ignore[no-untyped-def]
    report = make_case(s, address=PHONE)
    escalation = esc.escalate(s, report, actor="handler")
    clocks.wait_for_reporter(s, report, actor="handler")
    esc.record_response(s, escalation, action="action_taken", text="Stock delivered")
    receive(s, InboundMessage(channel="sms", external_id="SMans5", address=PHONE, text="thanks"))
    s.refresh(escalation)
    assert escalation.status == "responded" and escalation.paused_at is None and report.due_at is None
    assert "clock_resumed" not in kinds(s, report) and "reporter_answer" in kinds(s, report)


def test_no_escalation_no_clock_but_the_answer_still_joins_the_case(s: Session) -> None:
    report = make_case(s, address=PHONE)
    assert clocks.wait_for_reporter(s, report, actor="handler") is None
    reply = receive(s, InboundMessage(channel="sms", external_id="SMans6", address=PHONE, text="Chrey, Monday"))
    assert reply.kind == "case_answer" and "clock_paused" not in kinds(s, report)
    assert len(s.exec(select(Escalation)).all()) == 0


def test_withdrawing_the_report_erases_the_reporters_answers_too(s: Session) -> None:
    report = make_case(s, address=PHONE)
    esc.escalate(s, report, actor="handler")
    clocks.wait_for_reporter(s, report, actor="handler")
    receive(s, InboundMessage(channel="sms", external_id="SMans7", address=PHONE, text="It was nurse Sokha at Chrey"))
    withdraw(s, report)
    s.flush()
    texts = [e.detail.get("text") for e in s.exec(select(ReportEvent).where(ReportEvent.report_id == report.id)).all()]
    assert not any("Sokha" in (t or "") for t in texts)
    assert report.narrative_masked == ""
