"""What a handler does to a case. Each action appends a timeline event and an audit entry
(actor, action, before/after) in the caller's transaction; callers commit."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from datetime import datetime

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from service.auth.principal import Principal
from service.audit.service import record
from service.intake.vault import contact_for_report, has_contact
from service.kit import clock, segments
from service.kit.crypto import unseal
from service.kit.fastsql import FastQuery, session_connection
from service.kit.errors import DomainError, InvalidInput, NotFound
from service.kit.i18n import N_, gettext
from service.kit.models import require_id
from service.orgs.models import User
from service.outbox.models import OutboundMessage
from service.outbox.service import enqueue_message
from service.queue.service import can_see
from service.reports.models import (
    CATEGORIES,
    POPULATIONS,
    STATUSES,
    URGENCIES,
    Report,
    ReportCluster,
    ReportEvent,
    Reporter,
)
from service.reports import codes, fees
from service.reports.service import add_event, change_status
from service.triage.amounts import parse_answer
from service.triage.service import suggest_codes

# Replies a handler can send with one click (translated into the report's language).
REPLY_TEMPLATES = {
    "received": N_("We have read your report and are working on it. We will write again when there is news."),
    "more_info": N_(
        "Could you tell us more about what happened? Reply to this message. You do not need to give your name."
    ),
    "escalated": N_("Your report was sent to the authority responsible. We will tell you when they answer."),
    "resolved": N_("We believe the problem you reported has been dealt with. Thank you for speaking up."),
}
MAX_NOTE = 4000
# A handler's amount: digits, thousands separators, up to two decimals ("20000", "20,000", "2.50", "2,50").
_PLAIN_AMOUNT = re.compile(r"\d{1,3}(?:[,. ]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?")
MAX_REPLY = 640


class NotPermitted(DomainError):
    """The user's role does not allow this action on this case."""

    http_status = 403


class NoConsent(DomainError):
    """The reporter did not agree to be contacted (or has since said STOP)."""

    http_status = 409


def _actor(user: Principal) -> str:
    return user.email


def _audit(
    session: Session,
    user: Principal,
    action: str,
    report: Report,
    before: dict | None = None,
    after: dict | None = None,
) -> None:
    detail: dict = {}
    if before is not None:
        detail["before"] = before
    if after is not None:
        detail["after"] = after
    record(session, actor=_actor(user), action=action, object_type="report", object_id=report.id, detail=detail)


def record_view(session: Session, *, user: Principal, report: Report, via: str) -> None:
    """Every read of a case is audited."""
    record_view_of(session, user=user, report_id=require_id(report), via=via)


def record_view_of(session: Session, *, user: Principal, report_id: int, via: str) -> None:
    """`record_view` by the case's id: the caller has already read the case through `queue.get_case`
    (the web case page reads on a read-only connection and audits through the app's writer)."""
    record(
        session, actor=_actor(user), action="case.view", object_type="report", object_id=report_id, detail={"via": via}
    )


def _touch(report: Report) -> None:
    report.updated_at = clock.now()


def claim(session: Session, *, user: Principal, report: Report) -> None:
    """Take the case yourself. A case someone else holds can only be taken over by a supervisor or
    an administrator (it is a reassignment, as `assign` to someone else is)."""
    if report.assigned_user_id not in (None, user.id) and user.role not in ("supervisor", "admin"):
        raise NotPermitted("this case is assigned to someone else: ask a supervisor to reassign it")
    if report.assigned_user_id == user.id:
        return  # already yours
    assign(session, user=user, report=report, assignee_id=user.id)


def assign(session: Session, *, user: Principal, report: Report, assignee_id: int) -> None:
    """Give the case to a user of the case's organisation (to someone else: supervisors and admins)."""
    if assignee_id != user.id and user.role not in ("supervisor", "admin"):
        raise NotPermitted("only supervisors and administrators assign cases to others")
    assignee = session.get(User, assignee_id)
    if assignee is None or not assignee.is_active or not can_see(session, Principal.of(assignee), report):
        raise InvalidInput("that user cannot handle this case")
    before = report.assigned_user_id
    report.assigned_user_id = assignee_id
    _touch(report)
    session.add(report)
    add_event(session, report, "assigned", actor=_actor(user), detail={"to": assignee.email})
    _audit(session, user, "case.assign", report, {"assigned_user_id": before}, {"assigned_user_id": assignee_id})


def release(session: Session, *, user: Principal, report: Report) -> None:
    """Put the case back in the queue unassigned (your own; supervisors and admins: anyone's)."""
    if report.assigned_user_id is None:
        raise InvalidInput("the case is not assigned")
    if report.assigned_user_id != user.id and user.role not in ("supervisor", "admin"):
        raise NotPermitted("only the assignee, a supervisor or an administrator can release a case")
    before = report.assigned_user_id
    report.assigned_user_id = None
    _touch(report)
    session.add(report)
    add_event(session, report, "released", actor=_actor(user))
    _audit(session, user, "case.release", report, {"assigned_user_id": before}, {"assigned_user_id": None})


def add_note(session: Session, *, user: Principal, report: Report, text: str) -> None:
    """An internal note on the timeline (never sent to the reporter)."""
    text = text.strip()
    if not text:
        raise InvalidInput("the note is empty")
    if len(text) > MAX_NOTE:
        raise InvalidInput(f"a note has at most {MAX_NOTE} characters")
    add_event(session, report, "note", actor=_actor(user), detail={"text": text})
    # The audit log never holds free text: only that a note of this length was added.
    _audit(session, user, "case.note", report, None, {"note_chars": len(text)})


KEEP = object()  # correct_triage: leave the population as it is


def correct_triage(
    session: Session,
    *,
    user: Principal,
    report: Report,
    category: str | None = None,
    urgency: str | None = None,
    population: str | None | object = KEEP,
) -> None:
    """A handler's correction of category, urgency or population (None: not known);
    `samleng triage train` learns from these events, and a case the worker routed is routed again
    by its corrected facts until a person acts on it (service/routing/service.py)."""
    category = category or report.category
    urgency = urgency or report.urgency
    population = report.population if population is KEEP else population
    if (
        category not in CATEGORIES
        or urgency not in URGENCIES
        or (population is not None and population not in POPULATIONS)
    ):
        raise InvalidInput("unknown category, urgency or population")
    before: dict[str, str | None] = {"category": report.category, "urgency": report.urgency}
    after: dict[str, str | None] = {"category": category, "urgency": urgency}
    if population != report.population:
        before["population"], after["population"] = report.population, population
    if before == after:
        return
    report.category, report.urgency, report.category_source = category, urgency, "handler"
    report.population = population
    _touch(report)
    session.add(report)
    add_event(session, report, "triage_corrected", actor=_actor(user), detail={"from": before, "to": after})
    _audit(session, user, "case.triage_correct", report, before, after)
    if before["category"] != category and report.narrative_sealed is not None:
        # Now perhaps a rights-violation report: triage suggests its documentation codes from its words
        # (docs/triage.md, "Documentation codes"); a code a handler set stays.
        suggest_codes(session, report, unseal(report.narrative_sealed))


def correct_fee(session: Session, *, user: Principal, report: Report, amount: str, currency: str) -> None:
    """A handler sets the amount the reporter was asked to pay ("20000", "20,000", "2.50"; empty
    removes it), in one of the known currencies. Audited, with a timeline event; the source becomes
    "handler", which neither triage nor the reporter's later answers overwrite."""
    amount = (amount or "").strip()
    if currency not in fees.FEE_CURRENCIES:
        raise InvalidInput("unknown currency")
    given = None
    if amount:
        given = parse_answer(amount, currency) if _PLAIN_AMOUNT.fullmatch(amount) else None
        if given is None or given.currency != currency:
            raise InvalidInput("write the amount as a number, for example 20000 or 2.50")
    before = fees.fee_state(report)
    if not fees.set_fee(
        session,
        report,
        cents=given.cents if given else None,
        currency=currency if given else None,
        source="handler",
        actor=_actor(user),
    ):
        return
    _touch(report)
    _audit(session, user, "case.fee_correct", report, before, fees.fee_state(report))


def set_codes(
    session: Session,
    *,
    user: Principal,
    report: Report,
    perpetrator_type: str | None = None,
    violation_type: str | None = None,
) -> None:
    """A handler sets the documentation codes: a code ("police", "extortion"), "" for none, None to leave
    it as it is. Audited, with a timeline event; the source becomes "handler", which triage's
    suggestions never overwrite. Setting a suggested value again confirms it (the source changes)."""
    if perpetrator_type and perpetrator_type not in codes.PERPETRATOR_TYPES:
        raise InvalidInput("unknown perpetrator type")
    if violation_type and violation_type not in codes.VIOLATION_TYPES:
        raise InvalidInput("unknown violation type")
    before = codes.code_state(report)
    if not codes.set_codes(
        session,
        report,
        source="handler",
        actor=_actor(user),
        perpetrator_type=codes.UNCHANGED if perpetrator_type is None else perpetrator_type or None,
        violation_type=codes.UNCHANGED if violation_type is None else violation_type or None,
    ):
        return
    _touch(report)
    _audit(session, user, "case.codes_set", report, before, codes.code_state(report))


def set_status(session: Session, *, user: Principal, report: Report, to: str, reason: str | None = None) -> None:
    """Move the case along the allowed-transition table; rejecting needs a reason."""
    if to not in STATUSES:
        raise InvalidInput("unknown status")
    reason = (reason or "").strip() or None
    if to == "rejected" and not reason:
        raise InvalidInput("say why the case is rejected")
    if reason and len(reason) > 500:
        raise InvalidInput("the reason has at most 500 characters")
    before = report.status
    change_status(session, report, to, actor=_actor(user), reason=reason)
    _audit(session, user, "case.status", report, {"status": before}, {"status": to})


def merge(session: Session, *, user: Principal, report: Report, into_id: int) -> ReportCluster:
    """Mark the case a duplicate of another case the user can see, joining that case's cluster."""
    target = session.get(Report, into_id)
    if target is None or not can_see(session, user, target):
        raise NotFound("no such case")
    if target.id == report.id:
        raise InvalidInput("a case cannot be merged into itself")
    cluster = session.get(ReportCluster, target.cluster_id) if target.cluster_id else None
    if cluster is None:
        cluster = ReportCluster(category=target.category, place_id=target.place_id, size=1, label=f"case {target.id}")
        session.add(cluster)
        session.flush()
        target.cluster_id = cluster.id
        session.add(target)
    before = {"status": report.status, "cluster_id": report.cluster_id}
    change_status(session, report, "duplicate", actor=_actor(user), reason=f"duplicate of case {target.id}")
    if report.cluster_id != cluster.id:
        report.cluster_id = cluster.id
        cluster.size += 1
        cluster.updated_at = clock.now()
        session.add(cluster)
    session.add(report)
    add_event(session, target, "merged", actor=_actor(user), detail={"case": report.id})
    _audit(
        session,
        user,
        "case.merge",
        report,
        before,
        {"status": "duplicate", "cluster_id": cluster.id, "into": target.id},
    )
    return cluster


def can_reply(session: Session, report: Report) -> bool:
    """The reporter agreed to be contacted, the vault holds an address, and they have not said STOP."""
    if not report.consent_followup:
        return False
    if report.reporter_id is not None:
        reporter = session.get(Reporter, report.reporter_id)
        if reporter is not None and reporter.opted_out_at is not None:
            return False
    return has_contact(session, require_id(report))


def reply_text(report: Report, *, template: str | None, text: str | None) -> str:
    if template:
        if template not in REPLY_TEMPLATES:
            raise InvalidInput("unknown reply template")
        return gettext(report.language, REPLY_TEMPLATES[template])
    body = (text or "").strip()
    if not body:
        raise InvalidInput("the reply is empty")
    if len(body) > MAX_REPLY:
        raise InvalidInput(f"a reply has at most {MAX_REPLY} characters")
    return body


# Reply templates another package keeps, by the prefix of their key: the organisations' own
# templates ("org:<id>") register here when service/supervision/replies.py is imported (the queue
# does not import the packages built on it).
TEMPLATE_SOURCES: dict[str, Callable[[Session, Report, str], str]] = {}


def reply(
    session: Session, *, user: Principal, report: Report, template: str | None = None, text: str | None = None
) -> OutboundMessage:
    """Send a message to the reporter through the outbox; the address never leaves the vault and worker."""
    source = (
        next((fn for prefix, fn in TEMPLATE_SOURCES.items() if template.startswith(prefix)), None) if template else None
    )
    if source is not None:
        assert template is not None, "a source is found only for a template"
        body = source(session, report, template)
    else:
        body = reply_text(report, template=template, text=text)
    if not can_reply(session, report):
        raise NoConsent("the reporter did not agree to be contacted")
    contact = contact_for_report(session, require_id(report))
    assert contact is not None
    channel, address = contact
    message = enqueue_message(
        session, channel=channel, to=address, body=body, reporter_id=report.reporter_id, report_id=report.id
    )
    session.flush()
    count = segments.count(body)
    if report.first_response_at is None:
        report.first_response_at = clock.now()
    _touch(report)
    session.add(report)
    add_event(
        session,
        report,
        "reply",
        actor=_actor(user),
        detail={"text": body, "template": template, "segments": count.segments, "outbound_id": message.id},
    )
    _audit(
        session,
        user,
        "case.reply",
        report,
        None,
        {"outbound_id": message.id, "template": template, "segments": count.segments},
    )
    return message


@dataclass
class TimelineEntry:
    at: datetime
    kind: str
    actor: str
    detail: dict


# The case page's and the API's timeline: compiled once (an ORM select of the whole rows cost several
# times SQLite's own work on every case page: docs/benchmarks.md, review queue).
_EVENTS = FastQuery(
    select(ReportEvent.created_at, ReportEvent.kind, ReportEvent.actor, ReportEvent.detail)
    .where(ReportEvent.report_id == bindparam("report_id"))
    .order_by(col(ReportEvent.id))
)
_MESSAGE_COLUMNS: tuple[Any, ...] = (
    OutboundMessage.created_at,
    OutboundMessage.id,
    OutboundMessage.channel,
    OutboundMessage.status,
    OutboundMessage.sent_at,
    OutboundMessage.delivered_at,
)
_MESSAGES = FastQuery(
    select(*_MESSAGE_COLUMNS)
    .where(OutboundMessage.report_id == bindparam("report_id"))
    .order_by(col(OutboundMessage.id))
)


def timeline(session: Session, report: Report) -> list[TimelineEntry]:
    """Events and outgoing messages (their delivery state, never their address), oldest first."""
    conn = session_connection(session)
    params = {"report_id": require_id(report)}
    entries = [TimelineEntry(at, kind, actor, detail) for at, kind, actor, detail in _EVENTS.all(conn, params)]
    for created_at, message_id, channel, status, sent_at, delivered_at in _MESSAGES.all(conn, params):
        entries.append(
            TimelineEntry(
                created_at,
                "message_out",
                "outbox",
                {
                    "id": message_id,
                    "channel": channel,
                    "status": status,
                    "sent_at": sent_at.isoformat() if sent_at else None,
                    "delivered_at": delivered_at.isoformat() if delivered_at else None,
                },
            )
        )
    entries.sort(key=lambda e: clock.as_utc(e.at))
    return entries
