"""Escalation, closing, rerouting and evidence for handlers (the review queue's side of escalation and evidence).

Each action runs on a case the caller already looked up through `queue.get_case` (so the
organisation scope applies), appends an audit entry like the other case actions, and never
commits. The escalation, routing and evidence packages do the work; this module only decides
who may and what is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from service.auth.principal import Principal
from service.audit.service import record
from service.bodies.models import GrievanceBody
from service.config import Settings
from service.escalation import clocks
from service.escalation import service as esc
from service.escalation.models import WAITING, Escalation, LatestEscalation
from service.evidence.models import Evidence
from service.evidence.service import EvidenceItem, evidence_items, read_evidence
from service.kit.errors import DomainError, InvalidInput, NotFound
from service.kit.fastsql import FastQuery, session_connection
from service.kit.models import require_id
from service.outbox.deadletters import mask_error
from service.outbox.models import OutboundMessage
from service.queue import actions
from service.reports.models import Report
from service.routing import service as routing
from service.routing.models import RoutingRule


class Conflict(DomainError):
    """Not possible in the case's present state (answered 409)."""

    http_status = 409


def _audit(session: Session, user: Principal, action: str, report: Report, before: dict, after: dict) -> None:
    record(
        session,
        actor=user.email,
        action=action,
        object_type="report",
        object_id=report.id,
        detail={"before": before, "after": after},
    )


# -- escalation ---------------------------------------------------------------------------------
@dataclass
class EscalationView:
    """What the case page and the API show of the current escalation and the ladder."""

    current: LatestEscalation | None
    body: GrievanceBody | None
    rule: RoutingRule | None
    ladder: list[dict[str, Any]]
    needs_reroute: bool
    undelivered: bool = False  # the current escalation's messages to its body all failed: the body never got it


def escalation_view(session: Session, report: Report) -> EscalationView:
    current = esc.latest_of(session, report)
    body = session.get(GrievanceBody, current.body_id) if current is not None else None
    rule = routing.rule_for_report(session, report)
    ladder = []
    if rule is not None:
        for rung in routing.resolve_ladder(session, rule, place_id=report.place_id, category=report.category):
            ladder.append(
                {
                    "rung": rung.index,
                    "level": rung.body.level if rung.body else rung.spec.get("level"),
                    "body": rung.body.slug if rung.body else None,
                    "name_en": rung.body.name_en if rung.body else None,
                    "name_km": rung.body.name_km if rung.body else None,
                    "current": current is not None and current.rule_id == rule.id and current.rung == rung.index,
                }
            )
    return EscalationView(
        current=current,
        body=body,
        rule=rule,
        ladder=ladder,
        needs_reroute=current is not None and current.status == "not_ours",
        undelivered=current is not None and body_not_reached(session, current),
    )


def body_not_reached(session: Session, escalation: Escalation | LatestEscalation) -> bool:
    """True when a message sending this escalation to its body was given up (dead) and none got through."""
    statuses = set(
        session.exec(
            select(OutboundMessage.status).where(
                OutboundMessage.report_id == escalation.report_id,
                OutboundMessage.body_id == escalation.body_id,
                col(OutboundMessage.dedupe_key).like(f"esc{escalation.id}-new-%"),
            )
        ).all()
    )
    return "dead" in statuses and not statuses & {"sent", "delivered"}


# Reply templates that ask the reporter something: sending one always waits for the answer.
ASKING_TEMPLATES = ("more_info",)


def reply(
    session: Session,
    *,
    user: Principal,
    report: Report,
    template: str | None = None,
    text: str | None = None,
    wait: bool = False,
) -> OutboundMessage:
    """Message the reporter (`actions.reply`). With `wait` (or an asking template) the case waits on the
    reporter: their next message answers it and the waiting body's deadline pauses until then."""
    message = actions.reply(session, user=user, report=report, template=template, text=text)
    if wait or template in ASKING_TEMPLATES:
        clocks.wait_for_reporter(session, report, actor=user.email)
    return message


def resume_clock(session: Session, *, user: Principal, report: Report) -> None:
    """Stop waiting on the reporter: the paused deadline runs again now (audited)."""
    escalation = esc.current_escalation(session, report)
    if escalation is None or escalation.paused_at is None:
        raise Conflict("the deadline is not paused")
    due = clocks.resume(session, escalation, actor=user.email, reason="handler")
    _audit(
        session,
        user,
        "case.clock_resume",
        report,
        {"paused": True},
        {"paused": False, "due_at": due.isoformat() if due else None},
    )


def clock_state(
    session: Session, report: Report, *, language: str = "en", view: EscalationView | None = None
) -> clocks.ClockState | None:
    """The deadline clock; `view`: the case's escalation card, read already (its escalation is not read again)."""
    if view is None:
        return clocks.clock_state(session, report, language=language)
    return clocks.clock_of(session, report, view.current, language=language)


def escalation_preview(session: Session, report: Report) -> esc.Preview:
    """Where "Escalate" would send the case now (the confirmation page shows it); changes nothing."""
    return esc.preview(session, report)


def escalate(session: Session, *, user: Principal, report: Report, after: int) -> tuple[Escalation, bool]:
    """Send the case to the next body; `after` is the latest escalation id the caller saw (0: none).

    The same `after` twice (a double click, a retried request) gives the one escalation made
    the first time. Returns (escalation, created now?).
    """
    before = esc.current_escalation(session, report)
    status = report.status
    escalation = esc.escalate(session, report, actor=user.email, idempotency_key=f"after:{after}")
    created = before is None or escalation.id != before.id
    if created:
        body = session.get(GrievanceBody, escalation.body_id)
        _audit(
            session,
            user,
            "case.escalate",
            report,
            {"status": status, "escalation": before.id if before else None},
            {
                "status": report.status,
                "escalation": escalation.id,
                "body": body.slug if body else None,
                "rung": escalation.rung,
            },
        )
    return escalation, created


def close(session: Session, *, user: Principal, report: Report) -> None:
    """Close the case: waiting escalations cancelled, the reporter told, contact erasure scheduled."""
    if report.status == "closed":
        raise Conflict("the case is already closed")
    status = report.status
    esc.close_case(session, report, actor=user.email)
    _audit(session, user, "case.close", report, {"status": status}, {"status": report.status})


def reroute(session: Session, *, user: Principal, report: Report, rule_key: str) -> RoutingRule:
    """Route the case by another rule (after a body said "not ours"); it may leave the caller's organisation."""
    current = esc.current_escalation(session, report)
    if current is not None and current.status in WAITING:
        raise Conflict("the case is waiting for a body's answer; reroute after it answers or the deadline passes")
    if report.status in ("resolved", "closed", "withdrawn", "duplicate", "rejected"):
        raise Conflict(f"a {report.status} case cannot be rerouted")
    old = routing.rule_for_report(session, report)
    org_before = report.org_id
    try:
        rule = routing.reroute_by_key(session, report, key=rule_key, actor=user.email)
    except NotFound:
        raise InvalidInput("no active routing rule has that key") from None
    esc.auto_escalate(session, report, rule)
    _audit(
        session,
        user,
        "case.reroute",
        report,
        {"rule": old.rule_key if old else None, "org_id": org_before},
        {"rule": rule.rule_key, "version": rule.version, "org_id": report.org_id},
    )
    return rule


def route_choices(session: Session) -> list[routing.RuleChoice]:
    return routing.active_choices(session)


# -- evidence ----------------------------------------------------------------------------------
def evidence_list(session: Session, report: Report) -> list[EvidenceItem]:
    return evidence_items(session, require_id(report))


def open_evidence(
    session: Session, *, user: Principal, report: Report, evidence_id: int, via: str, settings: Settings | None = None
) -> tuple[bytes, str]:
    """The decrypted file of one of the case's evidence items (the view is audited)."""
    item = session.get(Evidence, evidence_id)
    if item is None or item.report_id != report.id:
        raise NotFound("no such evidence")
    try:
        data = read_evidence(item, settings)
    except FileNotFoundError:
        raise NotFound("the evidence file is gone (erased)") from None
    record(
        session,
        actor=user.email,
        action="case.view",
        object_type="report",
        object_id=report.id,
        detail={"via": "evidence", "evidence": item.id, "channel": via},
    )
    return data, item.mime


# -- dead letters (the list and "retry now": service/outbox/deadletters.py) ---------------------


@dataclass(frozen=True)
class FailedDelivery:
    id: int
    kind: str
    channel: str
    to_body: str | None  # the grievance body's name, for a message to a body
    error: str
    at: Any


# The case page asks on every view; nearly always none: compiled once, with the body's names joined in.
_DEAD_COLUMNS: tuple[Any, ...] = (
    OutboundMessage.id,
    OutboundMessage.kind,
    OutboundMessage.channel,
    OutboundMessage.last_error,
    OutboundMessage.sent_at,
    OutboundMessage.created_at,
    GrievanceBody.name_en,
    GrievanceBody.name_km,
)
_DEAD = FastQuery(
    select(*_DEAD_COLUMNS)
    .outerjoin(GrievanceBody, col(GrievanceBody.id) == col(OutboundMessage.body_id))
    .where(OutboundMessage.report_id == bindparam("report_id"), OutboundMessage.status == "dead")
    .order_by(col(OutboundMessage.id).desc())
)


def failed_deliveries(session: Session, report: Report, *, lang: str = "en") -> list[FailedDelivery]:
    """Messages about this case that were given up (dead letters), newest first: the case page says so.
    Never their address or text."""
    rows = _DEAD.all(session_connection(session), {"report_id": require_id(report)})
    return [
        FailedDelivery(
            id=message_id,
            kind=kind,
            channel=channel,
            to_body=(name_km if lang == "km" and name_km else name_en),
            error=mask_error(last_error),
            at=sent_at or created_at,
        )
        for message_id, kind, channel, last_error, sent_at, created_at, name_en, name_km in rows
    ]
