"""A grievance body's deadline.

Before it: one reminder to the body. When it passes unanswered: the escalation expires (the
handler sees `deadline_missed` on the case), the case climbs one rung (`escalate` tells the
next body and the reporter), and the body that missed it hears the case has left it. At the top
of the ladder the case stays overdue for the handler (`ladder_exhausted`). A dossier climbs the
same way on its own ladder, national then regional (`dossier_deadline_missed`).
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from service.bodies.models import GrievanceBody
from service.db import session_scope
from service.escalation import clocks, dossiers
from service.escalation import service as esc
from service.escalation.models import Dossier, Escalation
from service.flows import dossier as dossier_flow
from service.kit.clock import now
from service.kit.errors import DomainError, InvalidInput
from service.kit.tasks import Task, TaskContext
from service.reports.models import Report
from service.reports.service import add_event


def check_deadlines(session: Session, *, limit: int = 200) -> dict[str, int]:
    """Run again the clocks that waited on the reporter too long; send the reminders due; move the cases
    and dossiers whose deadline passed one rung up."""
    resumed = clocks.resume_unanswered(session, limit=limit)
    stamp = now()
    reminded = sum(remind(session, escalation, stamp) for escalation in esc.due_reminders(session, limit=limit))
    outcomes = [
        deadline_missed(session, escalation, stamp) for escalation in esc.missed_deadlines(session, limit=limit)
    ]
    return {
        "resumed": resumed,
        "reminded": reminded,
        "moved_up": outcomes.count("moved_up"),
        "exhausted": outcomes.count("exhausted"),
        "dossier_moved_up": outcomes.count("dossier_moved_up"),
        "dossier_expired": outcomes.count("dossier_expired"),
    }


def remind(session: Session, escalation: Escalation, stamp: datetime) -> bool:
    """One reminder per rung, while the case (or the dossier) is open."""
    body = session.get(GrievanceBody, escalation.body_id)
    escalation.reminded_at = stamp
    session.add(escalation)
    if escalation.dossier_id is not None:
        dossier = session.get(Dossier, escalation.dossier_id)
        if dossier is None or body is None or dossier.status == "closed":
            return False
        esc.notify_body(session, escalation, body=body, purpose="reminder")
        return True
    report = session.get(Report, escalation.report_id)
    if report is None or body is None or report.status in esc.FINISHED:
        return False
    esc.notify_body(session, escalation, report=report, body=body, purpose="reminder")
    add_event(session, report, "body_reminded", detail={"escalation": escalation.id, "body": body.slug})
    return True


def deadline_missed(session: Session, escalation: Escalation, stamp: datetime) -> str | None:
    """ "moved_up", "exhausted", "dossier_expired", or None (nothing to chase)."""
    if escalation.dossier_id is not None:
        return dossier_deadline_missed(session, escalation, stamp)
    report = session.get(Report, escalation.report_id)
    body = session.get(GrievanceBody, escalation.body_id)
    if report is None or body is None:
        return None
    if report.status in esc.FINISHED:
        escalation.status, escalation.closed_at = "cancelled", stamp  # nothing left to chase
        session.add(escalation)
        return None
    # 1. The escalation expires; the handler sees it on the case timeline (and the overdue view).
    escalation.status, escalation.closed_at = "expired", stamp
    session.add(escalation)
    add_event(session, report, "deadline_missed", detail={"escalation": escalation.id, "body": body.slug})
    # 2. One rung up, once per missed deadline however many workers (the key); the next body
    #    and the reporter are told by `escalate`.
    try:
        with session.begin_nested():
            nxt = esc.escalate(session, report, actor="deadline", idempotency_key=f"deadline:{escalation.id}")
    except (esc.LadderExhausted, InvalidInput):
        add_event(session, report, "ladder_exhausted", detail={"escalation": escalation.id})
        return "exhausted"
    # 3. The body that missed it hears the case has left it.
    next_body = session.get(GrievanceBody, nxt.body_id)
    esc.notify_body(session, escalation, report=report, body=body, purpose="moved", next_body=next_body)
    return "moved_up"


def dossier_deadline_missed(session: Session, escalation: Escalation, stamp: datetime) -> str:
    """A dossier climbs like a case, on its own ladder (national, then regional): the escalation expires and
    each linked case's timeline says so; the dossier goes to the next rung above the body that missed it,
    with its contents computed again for that body; the body that missed it hears it has left it. At the
    top (or with no body there) the supervisor sends it on or closes it; a closed dossier does not climb."""
    # 1. The escalation expires; each linked case's timeline says so.
    escalation.status, escalation.closed_at = "expired", stamp
    session.add(escalation)
    dossier = session.get(Dossier, escalation.dossier_id)
    body = session.get(GrievanceBody, escalation.body_id)
    if dossier is None or body is None:
        return "dossier_expired"
    detail = {"dossier": dossier.id, "title": dossier.title, "escalation": escalation.id, "body": body.slug}
    linked = dossiers.cases(session, dossier)
    for report in linked:
        add_event(session, report, "dossier_deadline_missed", detail=detail)
    # Closing ended the organisation's work on it: the body may still answer, nobody else is asked.
    if dossier.status == "closed":
        return "dossier_expired"
    # 2. One rung up, once per missed deadline however many workers (the key); the next body is told and
    #    each linked case's timeline says so (`escalate`).
    next_body = esc.next_dossier_body(session, body)
    nxt = None
    if next_body is not None:
        try:
            with session.begin_nested():
                nxt = dossier_flow.escalate(
                    session,
                    dossier,
                    body_slug=next_body.slug,
                    actor="deadline",
                    idempotency_key=f"deadline:{escalation.id}",
                )
        except DomainError:
            nxt = None
    if nxt is None:
        for report in linked:
            add_event(session, report, "dossier_ladder_exhausted", detail=detail)
        return "dossier_expired"
    # 3. The body that missed it hears the dossier has left it.
    esc.notify_body(session, escalation, body=body, purpose="moved", next_body=next_body)
    return "dossier_moved_up"


def deadlines(ctx: TaskContext) -> dict[str, int]:
    with session_scope(ctx.engine) as session:
        return check_deadlines(session)


def tasks(ctx: TaskContext) -> list[Task]:
    return [Task("deadlines", lambda: deadlines(ctx))]
