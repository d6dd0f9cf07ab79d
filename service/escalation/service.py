"""Escalation: send a case up its ladder, record the bodies' answers, watch the deadlines.

Plain functions, session first; they never commit. Every message to a body is an outbox
row written in the same transaction as the state change, so both happen or neither.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from service.bodies.models import BodyPlace, GrievanceBody
from service.bodies.service import focal_sms, resolve_level
from service.config import get_settings
from service.escalation import clocks, dossiers, links, reporter_updates, texts
from service.escalation.models import ACTIONS, WAITING, Dossier, Escalation, LatestEscalation
from service.intake.vault import schedule_erasure
from service.kit import zones
from service.kit.clock import as_utc, now
from service.kit.errors import DomainError, InvalidInput, NotFound
from service.kit.fastsql import FastQuery, session_connection
from service.kit.i18n import N_, gettext
from service.kit.masking import mask
from service.kit.models import require_id
from service.orgs.zones import org_zone
from service.outbox.service import enqueue_to_body
from service.places.models import Place
from service.reports.models import Report
from service.reports.service import add_event, change_status
from service.routing import service as routing
from service.routing.models import RoutingRule


# Without an idempotency key, the same actor escalating again this soon is taken as a repeat.
DOUBLE_SUBMIT_WINDOW = timedelta(minutes=2)


_FINISHED = ("resolved", "closed", "withdrawn", "duplicate", "rejected")


class LadderExhausted(DomainError):
    """No body is left above the current rung."""

    http_status = 409


class AlreadyAnswered(DomainError):
    pass


class NotCurrent(DomainError):
    """A body whose escalation was superseded or expired tried to settle the case.

    `holder` is the English name of the body that holds the case now (None when nobody does);
    `holder_body` the body itself, for a page in its own language.
    """

    def __init__(self, holder_body: GrievanceBody | None) -> None:
        self.holder_body = holder_body
        self.holder = holder_body.name_en if holder_body is not None else None
        super().__init__(
            f"this case is now with {self.holder}" if self.holder else "this case is no longer with your office"
        )


def holder_of(session: Session, escalation: Escalation) -> tuple[bool, GrievanceBody | None]:
    """(is this escalation the one holding its case or dossier, the body that holds it now)."""
    if escalation.dossier_id is not None:
        dossier = session.get(Dossier, escalation.dossier_id)
        current = current_dossier_escalation(session, dossier) if dossier is not None else None
    else:
        report = session.get(Report, escalation.report_id)
        current = current_escalation(session, report) if report is not None else None
    if current is None:
        return False, None
    return current.id == escalation.id, session.get(GrievanceBody, current.body_id)


# -- escalate ---------------------------------------------------------------------------------
# The case page's escalation card reads it on every view: compiled once, only the columns it shows.
_LATEST = FastQuery(
    select(*(getattr(Escalation, name) for name in LatestEscalation._fields))
    .where(Escalation.report_id == bindparam("report_id"))
    .order_by(col(Escalation.id).desc())
    .limit(1),
    LatestEscalation,
)


def latest_of(session: Session, report: Report) -> LatestEscalation | None:
    """`current_escalation` for reading only (the case page and the API's escalation state)."""
    found = _LATEST.all(session_connection(session), {"report_id": require_id(report)})
    return found[0] if found else None


def current_escalation(session: Session, report: Report) -> Escalation | None:
    """The latest escalation of a case (waiting or not)."""
    return session.exec(
        select(Escalation).where(Escalation.report_id == report.id).order_by(col(Escalation.id).desc())
    ).first()


def _next_rung(session: Session, report: Report, rule: RoutingRule, latest: Escalation | None) -> tuple[Any, list[Any]]:
    """(the rung the case goes to next or None, the rungs passed over on the way: no body for this place)."""
    start = latest.rung + 1 if latest is not None and latest.rule_id == rule.id else 0
    rungs = routing.resolve_ladder(session, rule, place_id=report.place_id, category=report.category)
    same_rule = latest is not None and latest.rule_id == rule.id
    target = next(
        (
            r
            for r in rungs[start:]
            if r.body is not None and not (same_rule and latest is not None and r.body.id == latest.body_id)
        ),
        None,
    )
    return target, list(rungs[start : (target.index if target else len(rungs))])


@dataclass(frozen=True)
class Preview:
    """Where "Escalate" would send the case now, without sending it (the handler confirms first)."""

    rule: RoutingRule | None
    body: GrievanceBody | None  # None: no body is left above the current rung (or no ladder)
    rung: int | None
    due_at: datetime | None  # the body's answer deadline, if it were sent now
    skipped: list[Any]  # rungs passed over (routing.Rung: no body for this place)
    current: Escalation | None


def preview(session: Session, report: Report) -> Preview:
    """What `escalate` would do now: the target body, its rung and deadline, the rungs passed over.
    Changes nothing (a case without a route is matched against the rules but not routed)."""
    latest = current_escalation(session, report)
    rule = routing.rule_for_report(session, report) or routing.match_rule(
        session,
        category=report.category,
        place_id=report.place_id,
        urgency=report.urgency,
        population=report.population,
    )
    if rule is None or not rule.ladder:
        return Preview(rule=rule, body=None, rung=None, due_at=None, skipped=[], current=latest)
    target, passed = _next_rung(session, report, rule, latest)
    body = target.body if target is not None else None
    due = clocks.deadline(session, body, org_id=report.org_id, start=now())[0] if body is not None else None
    return Preview(
        rule=rule,
        body=body,
        rung=target.index if target is not None else None,
        due_at=due,
        skipped=passed,
        current=latest,
    )


def escalate(session: Session, report: Report, *, actor: str, idempotency_key: str | None = None) -> Escalation:
    """Send the case to the next body on its ladder. The same key twice → the first escalation, no new message.

    Callers pass the state they acted on as the key (the web app: "after:<latest escalation id
    on the page>"), so two clicks on one page are one escalation. Without a key, a repeat by
    the same actor within two minutes returns the escalation just made.
    """
    latest = current_escalation(session, report)
    if (
        idempotency_key is None
        and latest is not None
        and latest.status in WAITING
        and latest.actor == actor
        and as_utc(latest.created_at) > now() - DOUBLE_SUBMIT_WINDOW
    ):
        return latest  # a keyless repeat by the same person moments later is the same request
    key = f"r{report.id}:" + (idempotency_key or f"after:{latest.id if latest else 0}")
    existing = session.exec(select(Escalation).where(Escalation.idempotency_key == key)).first()
    if existing is not None:
        return existing
    if report.status in ("resolved", "closed", "withdrawn", "duplicate", "rejected"):
        raise InvalidInput(f"a {report.status} case cannot be escalated")
    rule = routing.rule_for_report(session, report)
    if rule is None:
        rule = routing.match_rule(
            session,
            category=report.category,
            place_id=report.place_id,
            urgency=report.urgency,
            population=report.population,
        )
        routing.set_route(session, report, rule=rule, actor=actor)
    if rule is None or not rule.ladder:
        raise LadderExhausted("no escalation ladder applies to this case; route it first")
    target, passed = _next_rung(session, report, rule, latest)
    for skipped in passed:
        add_event(session, report, "rung_skipped", actor=actor, detail={"rung": skipped.index, "spec": skipped.spec})
    if target is None:
        add_event(session, report, "ladder_exhausted", actor=actor, detail={"rule": rule.rule_key})
        raise LadderExhausted("no body is left above the current rung")
    body: GrievanceBody = target.body
    stamp = now()
    due, counting = clocks.deadline(session, body, org_id=report.org_id, start=stamp)
    escalation = Escalation(
        report_id=require_id(report),
        body_id=require_id(body),
        rule_id=require_id(rule),
        rung=target.index,
        idempotency_key=key,
        actor=actor,
        created_at=stamp,
        due_at=due,
        counting=counting,
        remind_at=clocks.reminder_at(stamp, due),
        link_nonce=secrets.token_hex(8),
    )
    found = _insert(session, escalation)
    if found is not escalation:
        return found
    if latest is not None and latest.status in WAITING:
        latest.status, latest.closed_at = "superseded", stamp
        session.add(latest)
    first_time = report.status != "escalated"
    if report.status == "received":
        change_status(session, report, "in_progress", actor=actor, reason="escalated")
    change_status(session, report, "escalated", actor=actor, reason=f"to {body.slug}")
    report.due_at = escalation.due_at
    session.add(report)
    assert escalation.due_at is not None, "set when it was made"
    add_event(
        session,
        report,
        "escalated",
        actor=actor,
        detail={
            "escalation": escalation.id,
            "body": body.slug,
            "rung": target.index,
            "rule": rule.rule_key,
            "rule_version": rule.version,
            "due_at": escalation.due_at.isoformat(),
        },
    )
    notify_body(session, escalation, report=report, body=body, purpose="new")
    # The reporter hears at each stage: sent to an authority, then each time it climbs the ladder.
    reporter_updates.announce(session, report, "escalated" if first_time else "moved_up")
    return escalation


def _insert(session: Session, escalation: Escalation) -> Escalation:
    """Add a new escalation; when a concurrent request with the same key won, its escalation instead."""
    try:
        with session.begin_nested():
            session.add(escalation)
            session.flush()
    except IntegrityError:
        found = session.exec(select(Escalation).where(Escalation.idempotency_key == escalation.idempotency_key)).first()
        if found is None:
            raise
        return found
    return escalation


# -- what a body receives -------------------------------------------------------------------------
def auto_escalate(session: Session, report: Report, rule: RoutingRule | None) -> Escalation | None:
    """Escalate a case just routed by a rule that says so (once per case and rule version)."""
    if rule is None or not rule.auto_escalate:
        return None
    return escalate(session, report, actor="rule:" + rule.rule_key, idempotency_key=f"auto:{report.id}:{rule.id}")


def response_url(escalation: Escalation) -> str:
    settings = get_settings()
    expires = as_utc(escalation.due_at or now()) + timedelta(days=settings.response_link_days)
    token = links.make_token(require_id(escalation), escalation.link_nonce, expires)
    return settings.public_url.rstrip("/") + "/respond/" + token


def link_expiry(escalation: Escalation) -> datetime:
    return as_utc(escalation.due_at or now()) + timedelta(days=get_settings().response_link_days)


def _deadline_fields(escalation: Escalation, zone: str, lang: str) -> dict[str, Any]:
    """The escalation and its deadline as the body reads them (UTC, its local day and words), the same
    for a case and a dossier."""
    return {
        "due_at": as_utc(escalation.due_at).isoformat() if escalation.due_at else None,
        "due_date": zones.local_date(escalation.due_at, zone),
        "due_local": zones.said(escalation.due_at, zone, lang) if escalation.due_at else "",
        "time_zone": zone,
        "language": lang,
        "escalation": escalation.id,
        "rung": escalation.rung,
    }


def summary(session: Session, escalation: Escalation, *, report: Report, body: GrievanceBody) -> dict[str, Any]:
    """What a body may know about a case: masked narrative, category, place, deadline; never the reporter.

    Dates are in the zone of the organisation handling the case (grievance bodies have no zone of their
    own): `due_local` names it ("2026-12-12 17:00 (Phnom Penh time)"), `due_at` stays UTC (ISO 8601)."""
    lang = body.language
    zone = org_zone(session, report.org_id)
    place = session.get(Place, report.place_id) if report.place_id else None
    place_name = (
        (place.name_km if lang == "km" else place.name_en)
        if place
        else (report.place_text_masked or gettext(lang, texts.PLACE_UNKNOWN))
    )
    return {
        "case": report.id,
        "category": report.category,
        "category_label": gettext(lang, texts.CATEGORY_LABELS.get(report.category, texts.CATEGORY_LABELS[None])),
        "subcategory": report.subcategory,
        "urgency": report.urgency,
        "urgency_label": gettext(lang, texts.URGENCY_LABELS.get(report.urgency, report.urgency)),
        "place": {"code": place.code, "name_en": place.name_en, "name_km": place.name_km} if place else None,
        "place_name": place_name,
        "reported_on": zones.local_date(report.created_at, zone),
        "narrative_masked": report.narrative_masked,
        **_deadline_fields(escalation, zone, lang),
    }


def notify_body(
    session: Session,
    escalation: Escalation,
    *,
    body: GrievanceBody,
    purpose: str,
    report: Report | None = None,
    next_body: GrievanceBody | None = None,
) -> int:
    """Queue the case (or the dossier) to every output the body has (email, signed webhook, SMS).
    Returns how many."""
    url = response_url(escalation)
    if escalation.dossier_id is not None:
        message = _dossier_message(session, escalation, body=body, purpose=purpose, url=url, next_body=next_body)
    else:
        assert report is not None, "a case's escalation is sent with its case"
        message = _case_message(
            session, escalation, report=report, body=body, purpose=purpose, url=url, next_body=next_body
        )
    subject, text, data, sms = message
    base = f"esc{escalation.id}-{purpose}"
    count = 0
    if body.email:
        count += bool(
            enqueue_to_body(
                session,
                body_id=require_id(body),
                kind="email",
                dedupe_key=f"{base}-email",
                report_id=escalation.report_id,
                payload={"subject": subject, "text": text},
            )
        )
    if body.webhook_url:
        subject_kind = "dossier" if escalation.dossier_id is not None else "case"
        event = {"new": "escalated", "reminder": "reminder", "moved": "moved_up"}[purpose]
        data = {
            **data,
            "respond_url": url,
            "respond_api": f"/api/v1/body/escalations/{escalation.id}/response",
            "link_expires_at": link_expiry(escalation).isoformat(),
        }
        if next_body is not None:
            data["next_body"] = next_body.slug
        count += bool(
            enqueue_to_body(
                session,
                body_id=require_id(body),
                kind="webhook",
                dedupe_key=f"{base}-webhook",
                report_id=escalation.report_id,
                payload={"type": f"{subject_kind}.{event}", "data": data},
            )
        )
    if sms and body.sms_sealed and focal_sms(body) and purpose != "moved":
        count += bool(
            enqueue_to_body(
                session,
                body_id=require_id(body),
                kind="body_sms",
                dedupe_key=f"{base}-sms",
                report_id=escalation.report_id,
                payload={"text": sms},
            )
        )
    return count


def _case_message(
    session: Session,
    escalation: Escalation,
    *,
    report: Report,
    body: GrievanceBody,
    purpose: str,
    url: str,
    next_body: GrievanceBody | None = None,
) -> tuple[str, str, dict[str, Any], str]:
    """(email subject, email text, webhook data, SMS text) about one case."""
    info = summary(session, escalation, report=report, body=body)
    lang = body.language
    expires = zones.said(link_expiry(escalation), info["time_zone"], lang, time=False)
    params = {
        "case": report.id,
        "category": info["category_label"],
        "place": info["place_name"],
        "due": info["due_local"],
        "next_body": (next_body.name_km if lang == "km" else next_body.name_en) if next_body else "",
    }
    subject = gettext(
        lang,
        {"new": texts.SUBJECT_NEW, "reminder": texts.SUBJECT_REMINDER, "moved": texts.SUBJECT_MOVED}[purpose],
        **params,
    )
    intro = {"new": texts.BODY_INTRO, "reminder": texts.BODY_REMINDER, "moved": texts.BODY_MOVED}[purpose]
    t = lambda msgid: gettext(lang, msgid)  # noqa: E731
    lines = [
        gettext(lang, intro, **params),
        "",
        f"{t(texts.FIELD_CASE)}: {report.id}",
        f"{t(texts.FIELD_CATEGORY)}: {info['category_label']}",
        f"{t(texts.FIELD_PLACE)}: {info['place_name']}",
        f"{t(texts.FIELD_URGENCY)}: {info['urgency_label']}",
        f"{t(texts.FIELD_REPORTED)}: {info['reported_on']}",
        f"{t(texts.FIELD_DEADLINE)}: {info['due_local']}",
        "",
        f"{t(texts.FIELD_NARRATIVE)}:",
        report.narrative_masked or "-",
        "",
        url,
        gettext(lang, texts.BODY_HOWTO, expires=expires),
    ]
    return subject, "\n".join(lines), info, gettext(lang, texts.SMS_NEW, link=url, **params)


def dossier_summary(session: Session, escalation: Escalation, *, body: GrievanceBody) -> dict[str, Any]:
    """What a body may know about a dossier: its title (masked), its deadline, and its suppressed contents
    as they were sent (the snapshot on the escalation); never a case number or a reporter."""
    dossier = session.get(Dossier, escalation.dossier_id)
    assert dossier is not None, "a dossier stays while its escalations do"
    lang = body.language
    zone = org_zone(session, dossier.org_id)
    return {
        "dossier": dossier.id,
        "title": mask(dossier.title),
        "contents": escalation.dossier_contents or {},
        **_deadline_fields(escalation, zone, lang),
    }


def _table_lines(table: dict[str, Any], total: str) -> list[str]:
    rows, columns, cells = table.get("rows", []), table.get("columns", []), table.get("cells", [])
    out = [" | ".join(["", *columns, total])]
    for i, row in enumerate(cells):
        name = rows[i] if i < len(rows) else total
        out.append(" | ".join([str(name), *(str(v) for v in row)]))
    return out


def _dossier_message(
    session: Session,
    escalation: Escalation,
    *,
    body: GrievanceBody,
    purpose: str,
    url: str,
    next_body: GrievanceBody | None = None,
) -> tuple[str, str, dict[str, Any], str]:
    """(email subject, email text, webhook data, SMS text) about a dossier: its suppressed contents as sent."""
    info = dossier_summary(session, escalation, body=body)
    lang, contents = body.language, info["contents"]
    t = lambda msgid: gettext(lang, msgid)  # noqa: E731
    params = {"dossier": info["dossier"], "title": info["title"], "due": info["due_local"]}
    params["next_body"] = (next_body.name_km if lang == "km" else next_body.name_en) if next_body else ""
    subject = gettext(
        lang,
        {
            "new": texts.DOSSIER_SUBJECT_NEW,
            "reminder": texts.DOSSIER_SUBJECT_REMINDER,
            "moved": texts.DOSSIER_SUBJECT_MOVED,
        }[purpose],
        **params,
    )
    expires = zones.said(link_expiry(escalation), info["time_zone"], lang, time=False)
    intro = {"new": texts.DOSSIER_INTRO, "reminder": texts.BODY_REMINDER, "moved": texts.DOSSIER_BODY_MOVED}[purpose]
    lines = [
        gettext(lang, intro, **params),
        "",
        f"{t(texts.FIELD_DOSSIER)}: {info['title']}",
        f"{t(texts.FIELD_DEADLINE)}: {info['due_local']}",
        gettext(lang, texts.DOSSIER_SUPPRESSED, threshold=contents.get("threshold", "")),
    ]
    for heading, key in texts.DOSSIER_TABLES:
        if key in contents:
            lines += ["", t(heading) + ":", *_table_lines(contents[key], t(texts.DOSSIER_TOTAL))]
    lines += ["", t(texts.DOSSIER_QUOTES) + ":"]
    if contents.get("quotes_withheld"):
        lines.append(t(texts.DOSSIER_QUOTES_WITHHELD))
    lines += [f"- {q}" for q in contents.get("quotes", [])] or (["-"] if not contents.get("quotes_withheld") else [])
    lines += ["", url, gettext(lang, texts.BODY_HOWTO, expires=expires)]
    sms = gettext(lang, texts.DOSSIER_SMS, link=url, **params)
    return subject, "\n".join(lines), info, sms


# -- a dossier escalated as one case (docs/escalation.md, "Collective escalation: the dossier") -----------
# The dossier names its body directly: a national or regional one. Its deadline, reminder, response link
# and the body's answer are the single case's, on the same escalation row.
DOSSIER_LEVELS = ("national", "regional")


def next_dossier_body(session: Session, body: GrievanceBody) -> GrievanceBody | None:
    """Where a dossier climbs when `body` misses its deadline: the first level above `body`'s on the dossier's
    ladder (national, then regional) with a body of `body`'s network covering a place `body` covers, as a
    case's ladder resolves a level; None when no rung above has a body (the top of the ladder)."""
    if body.level not in DOSSIER_LEVELS:
        return None
    places = session.exec(
        select(BodyPlace.place_id).where(BodyPlace.body_id == body.id).order_by(col(BodyPlace.place_id))
    ).all()
    for level in DOSSIER_LEVELS[DOSSIER_LEVELS.index(body.level) + 1 :]:
        for place_id in places:
            found = resolve_level(session, level=level, place_id=place_id, category=None, network=body.network)
            if found is not None and found.id != body.id:
                return found
    return None


def current_dossier_escalation(session: Session, dossier: Dossier) -> Escalation | None:
    """The latest escalation of a dossier (waiting or not)."""
    return session.exec(
        select(Escalation).where(Escalation.dossier_id == dossier.id).order_by(col(Escalation.id).desc())
    ).first()


def escalate_dossier(
    session: Session,
    dossier: Dossier,
    *,
    body: GrievanceBody,
    actor: str,
    contents: dict[str, Any],
    idempotency_key: str | None = None,
) -> Escalation:
    """Send the dossier to a national or regional body with its suppressed `contents` (computed by the flow
    in the body's language, kept as sent). The same key twice: the first escalation, no new message.
    Sending it again to another body supersedes the one waiting (the next rung of its ladder)."""
    latest = current_dossier_escalation(session, dossier)
    key = f"d{dossier.id}:" + (idempotency_key or f"after:{latest.id if latest else 0}")
    existing = session.exec(select(Escalation).where(Escalation.idempotency_key == key)).first()
    if existing is not None:
        return existing
    if dossier.status == "closed":
        raise dossiers.DossierClosed(N_("the dossier is closed: it cannot be escalated"))
    if body.level not in DOSSIER_LEVELS:
        raise InvalidInput(f"a dossier goes to a {' or '.join(DOSSIER_LEVELS)} body, not a {body.level} one")
    if latest is not None and latest.status in WAITING and latest.body_id == body.id:
        raise InvalidInput("the dossier is already waiting for this body's answer")
    stamp = now()
    due, counting = clocks.deadline(session, body, org_id=dossier.org_id, start=stamp)
    escalation = Escalation(
        dossier_id=require_id(dossier),
        body_id=require_id(body),
        rung=latest.rung + 1 if latest is not None else 0,
        idempotency_key=key,
        actor=actor,
        created_at=stamp,
        due_at=due,
        counting=counting,
        remind_at=clocks.reminder_at(stamp, due),
        link_nonce=secrets.token_hex(8),
        dossier_contents=contents,
    )
    found = _insert(session, escalation)
    if found is not escalation:
        return found
    if latest is not None and latest.status in WAITING:
        latest.status, latest.closed_at = "superseded", stamp
        session.add(latest)
    dossier.status = "escalated"
    session.add(dossier)
    dossiers.mark_escalated(session, dossier, escalation_id=require_id(escalation), body_slug=body.slug, actor=actor)
    notify_body(session, escalation, body=body, purpose="new")
    return escalation


# -- a body answers -----------------------------------------------------------------------------
def _holds(session: Session, escalation: Escalation, current: Escalation | None, action: str) -> bool:
    """Whether `escalation` holds its case (or dossier). Only the one holding it may settle it; a
    superseded or expired body may still record what it did (its "passed on" message says so), which
    changes nothing on the case: any other answer from it raises NotCurrent."""
    is_current = current is not None and current.id == escalation.id
    if not is_current and action != "action_taken":
        raise NotCurrent(session.get(GrievanceBody, current.body_id) if current is not None else None)
    return is_current


def _repeated(escalation: Escalation, action: str, text: str, is_current: bool) -> bool:
    """The same answer submitted twice (a double click, a retried API call): recorded once."""
    if escalation.status == "responded" and action == "action_taken" and escalation.response_masked == text:
        return True
    return not is_current and escalation.response_masked == text


def _mark_answer(escalation: Escalation, action: str, text: str, is_current: bool, stamp: datetime) -> None:
    """The escalation's own record of a body's answer, the same for a case and a dossier."""
    if action == "acknowledge":
        escalation.acknowledged_at = escalation.acknowledged_at or stamp
        if escalation.status == "open":
            escalation.status = "acknowledged"
        return
    escalation.responded_at = stamp
    if text:
        escalation.response_masked = text
    if action == "action_taken" and is_current:
        escalation.status = "responded"
    elif action in ("resolved", "not_ours"):
        escalation.status, escalation.closed_at = action, stamp


def _record_dossier_response(
    session: Session, escalation: Escalation, *, action: str, text: str, via: str
) -> Escalation:
    """A body's answer to a dossier: the escalation records it like a case's, and the linked cases and their
    consenting reporters hear of it (`dossiers.announce_answer`); the cases keep their own status."""
    dossier = session.get(Dossier, escalation.dossier_id)
    body = session.get(GrievanceBody, escalation.body_id)
    if dossier is None or body is None:
        raise NotFound("dossier not found")
    is_current = _holds(session, escalation, current_dossier_escalation(session, dossier), action)
    if _repeated(escalation, action, text, is_current):
        return escalation
    _mark_answer(escalation, action, text, is_current, now())
    if is_current and action in ("action_taken", "resolved") and dossier.status != "closed":
        dossier.status = "answered"  # a closed dossier stays closed: the answer still reaches its cases
    session.add_all([escalation, dossier])
    dossiers.announce_answer(
        session, dossier, escalation_id=require_id(escalation), body_slug=body.slug, action=action, text=text, via=via
    )
    return escalation


def escalation_for_token(session: Session, token: str) -> Escalation:
    """The escalation a genuine, unexpired link is for; raises links.BadLink / links.ExpiredLink."""
    escalation_id, nonce, _expires = links.read_token(token)
    escalation = session.get(Escalation, escalation_id)
    if escalation is None or not secrets.compare_digest(escalation.link_nonce, nonce):
        raise links.BadLink("link revoked")
    return escalation


def record_response(
    session: Session,
    escalation: Escalation,
    *,
    action: str,
    text: str = "",
    via: str = "link",
) -> Escalation:
    """Record a body's answer: acknowledge, action_taken, resolved or not_ours (→ back to the handler)."""
    if action not in ACTIONS:
        raise InvalidInput(f"action must be one of {', '.join(ACTIONS)}")
    text = mask(text.strip())[:4000]
    if action == "action_taken" and not text:
        raise InvalidInput("describe the action taken")
    if escalation.status in ("resolved", "not_ours", "cancelled"):
        raise AlreadyAnswered(f"this escalation is already {escalation.status}")
    if escalation.dossier_id is not None:
        return _record_dossier_response(session, escalation, action=action, text=text, via=via)
    report = session.get(Report, escalation.report_id)
    body = session.get(GrievanceBody, escalation.body_id)
    if report is None or body is None:
        raise NotFound("case not found")
    is_current = _holds(session, escalation, current_escalation(session, report), action)
    if _repeated(escalation, action, text, is_current):
        return escalation
    stamp = now()
    actor = f"body:{body.slug}"
    detail = {"escalation": escalation.id, "action": action, "via": via}
    if text:
        detail["text"] = text
    add_event(session, report, "body_response", actor=actor, detail=detail)
    report.first_response_at = report.first_response_at or stamp
    _mark_answer(escalation, action, text, is_current, stamp)
    if action == "acknowledge":
        session.add_all([escalation, report])
        return escalation
    if action == "action_taken":
        if is_current and report.status in ("escalated", "in_progress"):
            change_status(session, report, "responded", actor=actor)
            report.due_at = None
            reporter_updates.announce(session, report, "responded")
    elif action == "resolved":  # only the current escalation gets here
        if report.status in ("escalated", "responded", "in_progress"):
            change_status(session, report, "resolved", actor=actor)
            report.due_at = None
            reporter_updates.announce(session, report, "resolved")
    else:  # not_ours: the handler reroutes or escalates past this body
        if is_current and report.status in ("escalated", "responded"):
            change_status(session, report, "in_progress", actor=actor, reason="body says not theirs")
            report.due_at = None
        add_event(session, report, "needs_reroute", actor=actor, detail={"body": body.slug})
    session.add_all([escalation, report])
    return escalation


def body_escalations(session: Session, body: GrievanceBody, *, waiting_only: bool = True) -> list[Escalation]:
    query = select(Escalation).where(Escalation.body_id == body.id)
    if waiting_only:
        query = query.where(col(Escalation.status).in_(WAITING))
    return list(session.exec(query.order_by(col(Escalation.id))).all())


# -- closing a case -----------------------------------------------------------------------------------
def close_case(session: Session, report: Report, *, actor: str) -> None:
    """Close a resolved case: waiting escalations cancelled, contact erasure scheduled, reporter asked."""
    if report.status != "resolved":
        change_status(session, report, "resolved", actor=actor)
    change_status(session, report, "closed", actor=actor)
    for escalation in session.exec(
        select(Escalation).where(Escalation.report_id == report.id, col(Escalation.status).in_(WAITING))
    ).all():
        escalation.status, escalation.closed_at = "cancelled", now()
        session.add(escalation)
    report.due_at = None
    session.add(report)
    reporter_updates.announce(session, report, "closed")
    schedule_erasure(session, require_id(report), grace=timedelta(days=get_settings().contact_grace_days))


# -- deadlines (service/flows/deadlines.py runs them) -----------------------------------------------
FINISHED = _FINISHED  # a case in one of these states is not chased up the ladder


def _locked(session: Session, query):
    # Several workers: each escalation is handled by whichever locks it first (PostgreSQL).
    return query.with_for_update(skip_locked=True) if session.get_bind().dialect.name == "postgresql" else query


def due_reminders(session: Session, *, limit: int = 200) -> list[Escalation]:
    """Waiting escalations past their reminder time, not yet reminded, deadline not passed."""
    stamp = now()
    return list(
        session.exec(
            _locked(
                session,
                select(Escalation)
                .where(
                    col(Escalation.status).in_(WAITING),
                    col(Escalation.reminded_at).is_(None),
                    col(Escalation.paused_at).is_(None),
                    col(Escalation.remind_at) <= stamp,
                    col(Escalation.due_at) > stamp,
                )
                .limit(limit),
            )
        ).all()
    )


def missed_deadlines(session: Session, *, limit: int = 200) -> list[Escalation]:
    """Waiting escalations whose deadline has passed (their clock not paused), oldest first."""
    return list(
        session.exec(
            _locked(
                session,
                select(Escalation)
                .where(
                    col(Escalation.status).in_(WAITING),
                    col(Escalation.paused_at).is_(None),
                    col(Escalation.due_at) <= now(),
                )
                .order_by(col(Escalation.id))
                .limit(limit),
            )
        ).all()
    )
