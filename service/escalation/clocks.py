"""A body's deadline clock: how it counts, when it pauses, what the case page says of it.

**How it counts.** A body counts its deadline in calendar time (every hour: the default) or, when its
`deadline_counting` is "working", only in its working hours and not on its country's public holidays
(`service.kit.workingtime`). Its calendar is its own zone, hours and holidays' country, each falling
back to the organisation handling the case (and the zone to the platform's).

**Waiting on the reporter.** When a handler asks the reporter a question and waits for the answer
(the case page's reply with "wait for the answer", or the "more information" template), the waiting
escalation's clock pauses (`clock_paused` on the timeline) and the reporter's next message that is
not a keyword is taken as the answer: it goes on the case's timeline (masked, `reporter_answer`) and
the clock runs again (`clock_resumed`), the paused time added to the deadline. Without an answer the
clock runs again on its own after `ANSWER_WINDOW` (the worker). While paused, the worker neither
reminds the body nor expires the escalation, and the case has no `due_at` (it is not overdue).

Plain functions, session first; they never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from service.bodies.models import GrievanceBody
from service.bodies.service import deadline_for
from service.escalation import texts
from service.escalation.models import WAITING, Escalation, LatestEscalation
from service.intake.questions import PendingQuestion, ask
from service.intake.schemas import Reply
from service.kit import workingtime, zones
from service.kit.clock import as_utc, now
from service.kit.i18n import gettext
from service.kit.masking import mask
from service.kit.models import require_id
from service.orgs.models import Organisation
from service.reports.models import Report
from service.reports.service import add_event

# How long a question to the reporter holds the clock at most (then it runs again, answered or not).
ANSWER_WINDOW = timedelta(days=14)
QUESTION_KIND = "case_question"  # the pending question the reporter's answer settles (intake/questions.py)
MAX_ANSWER = 2000


def calendar_for(session: Session, body: GrievanceBody, org_id: int | None) -> workingtime.Calendar:
    """The body's working calendar: its own zone, hours and holidays' country, each else the handling
    organisation's, the zone else the platform's."""
    org = session.get(Organisation, org_id) if org_id is not None else None
    return workingtime.Calendar.of(
        body.time_zone or zones.name_for(None, org),
        body.working_hours or (org.working_hours if org is not None else None),
        body.holiday_country or (org.holiday_country if org is not None else None),
    )


def _calendar(
    session: Session, escalation: Escalation | LatestEscalation, report: Report | None
) -> workingtime.Calendar | None:
    if escalation.counting != "working":
        return None
    body = session.get(GrievanceBody, escalation.body_id)
    return calendar_for(session, body, report.org_id if report else None) if body is not None else None


def deadline(session: Session, body: GrievanceBody, *, org_id: int | None, start: datetime) -> tuple[datetime, str]:
    """(when the body's answer is due if the case is sent to it at `start`, how the deadline counts)."""
    window = deadline_for(body)
    if body.deadline_counting == "working":
        return workingtime.add(start, window, calendar_for(session, body, org_id)), "working"
    return start + window, "calendar"


def reminder_at(start: datetime, due: datetime) -> datetime:
    """The reminder goes 24 h before the deadline (a quarter of the window if that is shorter)."""
    return due - min(timedelta(hours=24), (due - start) / 4)


# -- waiting on the reporter -----------------------------------------------------------------------
def _waiting(session: Session, report: Report) -> Escalation | None:
    latest = session.exec(
        select(Escalation).where(Escalation.report_id == report.id).order_by(col(Escalation.id).desc())
    ).first()
    return latest if latest is not None and latest.status in WAITING else None


def wait_for_reporter(session: Session, report: Report, *, actor: str) -> Escalation | None:
    """The handler asked the reporter a question: the reporter's next message answers it, and the waiting
    escalation's clock (if any) pauses until then (ANSWER_WINDOW at most). Returns the paused escalation."""
    stamp = now()
    if report.reporter_id is not None:
        ask(
            session,
            reporter_id=report.reporter_id,
            report_id=require_id(report),
            kind=QUESTION_KIND,
            language=report.language or "en",
            ttl=ANSWER_WINDOW,
        )
    escalation = _waiting(session, report)
    if escalation is None:
        return None
    if escalation.paused_at is None:
        escalation.paused_at = stamp
        add_event(
            session,
            report,
            "clock_paused",
            actor=actor,
            detail={
                "escalation": escalation.id,
                "waiting_on": "reporter",
                "until": (stamp + ANSWER_WINDOW).isoformat(),
            },
        )
    escalation.paused_until = stamp + ANSWER_WINDOW  # a second question waits its full window again
    report.due_at = None  # not overdue while it waits on the reporter
    session.add_all([escalation, report])
    return escalation


def resume(session: Session, escalation: Escalation, *, actor: str, reason: str) -> datetime | None:
    """Run a paused clock again: the time left at the pause counts from now (in the same way: calendar or
    working time), so the paused time is added to the deadline. Returns the new deadline."""
    if escalation.paused_at is None:
        return None
    report = session.get(Report, escalation.report_id)
    stamp = now()
    paused = as_utc(escalation.paused_at)
    escalation.paused_at = escalation.paused_until = None
    if escalation.status not in WAITING or escalation.due_at is None or report is None:
        session.add(escalation)
        return None
    calendar = _calendar(session, escalation, report)
    due = as_utc(escalation.due_at)
    left = workingtime.between(paused, due, calendar)
    new_due = workingtime.add(stamp, left, calendar)
    if escalation.reminded_at is None and escalation.remind_at is not None:
        escalation.remind_at = new_due - (due - as_utc(escalation.remind_at))
    escalation.due_at = new_due
    if report.status == "escalated":
        report.due_at = new_due
    session.add_all([escalation, report])
    add_event(
        session,
        report,
        "clock_resumed",
        actor=actor,
        detail={
            "escalation": escalation.id,
            "reason": reason,
            "paused_seconds": int((stamp - paused).total_seconds()),
            "due_at": new_due.isoformat(),
        },
    )
    return new_due


def answer_case_question(session: Session, question: PendingQuestion, text: str, language: str) -> Reply | None:
    """The intake hook for a handler's question: the message goes on the case and its clock runs again."""
    report = session.get(Report, question.report_id)
    answer = mask(text.strip())[:MAX_ANSWER]
    if report is None or report.status == "withdrawn" or not answer:
        return None  # then the message is handled as a new report
    question.answered_at = now()
    session.add(question)
    add_event(session, report, "reporter_answer", actor="reporter", detail={"text": answer})
    for escalation in session.exec(
        select(Escalation).where(Escalation.report_id == report.id, col(Escalation.paused_at).is_not(None))
    ).all():
        resume(session, escalation, actor="reporter", reason="reporter_answered")
    lang = language or question.language
    return Reply(text=gettext(lang, texts.ANSWER_ADDED), language=lang, kind="case_answer", report_id=report.id)


def resume_unanswered(session: Session, *, limit: int = 200) -> int:
    """The worker: clocks paused longer than the reporter's answer window run again. Returns how many."""
    query = (
        select(Escalation)
        .where(col(Escalation.paused_until).is_not(None), col(Escalation.paused_until) <= now())
        .order_by(col(Escalation.id))
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    count = 0
    for escalation in session.exec(query).all():
        count += resume(session, escalation, actor="deadline", reason="no_answer") is not None
    return count


# -- what the case page shows ----------------------------------------------------------------------
@dataclass(frozen=True)
class ClockState:
    """The current escalation's clock: "running", "working" (counting working time only), "paused"
    (waiting on the reporter) or "overdue"."""

    state: str
    due_at: datetime | None = None
    paused_since: datetime | None = None
    paused_until: datetime | None = None
    period_start: datetime | None = None  # working time: the working period now running, or the next one
    period_end: datetime | None = None
    counting_now: bool = False  # working time: inside a working period now
    holiday: str | None = None  # working time: today's public holiday in the body's calendar, if any


def clock_state(
    session: Session, report: Report, *, language: str = "en", at: datetime | None = None
) -> ClockState | None:
    """The clock of the escalation the case waits on; None when no body's answer is awaited."""
    return clock_of(session, report, _waiting(session, report), language=language, at=at)


def clock_of(
    session: Session,
    report: Report,
    latest: Escalation | LatestEscalation | None,
    *,
    language: str = "en",
    at: datetime | None = None,
) -> ClockState | None:
    """`clock_state` when the caller has read the case's latest escalation in this transaction
    already (`latest`; None: the case has none): the case page's escalation card."""
    escalation = latest if latest is not None and latest.status in WAITING else None
    if escalation is None or escalation.due_at is None:
        return None
    at = at or now()
    if escalation.paused_at is not None:
        return ClockState(
            "paused",
            due_at=as_utc(escalation.due_at),
            paused_since=as_utc(escalation.paused_at),
            paused_until=as_utc(escalation.paused_until) if escalation.paused_until else None,
        )
    due = as_utc(escalation.due_at)
    if due <= at:
        return ClockState("overdue", due_at=due)
    calendar = _calendar(session, escalation, report)
    if calendar is None:
        return ClockState("running", due_at=due)
    start, end = workingtime.next_period(calendar, at)
    today = zones.local(at, calendar.zone).date()
    return ClockState(
        "working",
        due_at=due,
        period_start=start,
        period_end=end,
        counting_now=start <= at,
        holiday=workingtime.holiday_name(calendar.country, today, language),
    )
