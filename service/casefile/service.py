"""The case file: one case's masked narrative, timeline, escalations with the bodies' answers and its
evidence list, as HTML and as an A4 PDF printed by Debian's chromium (like the quarterly report).

What it never holds: the reporter's phone number, Telegram id, pseudonym or receipt code, the words as
written (only `narrative_masked`), staff e-mail addresses (the timeline says what happened and which
body acted, not which handler), evidence files (only their type, size and date). Printing one is
audited (`case.casefile`) and allowed to whoever may see the case (its organisation, a platform admin).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from sqlmodel import Session, col, select

from service.analytics.pages import html_to_pdf
from service.auth.principal import Principal
from service.audit.service import record
from service.bodies.models import GrievanceBody
from service.escalation.models import Escalation
from service.evidence.service import evidence_for_report
from service.kit import zones
from service.kit.clock import now
from service.kit.i18n import gettext
from service.kit.models import require_id
from service.orgs import zones as org_zones
from service.orgs.models import Organisation
from service.places.models import Place
from service.queue.service import get_case
from service.reports.models import Report, ReportEvent

LANGUAGES = ("km", "en")
# Timeline entries a referral needs (what happened to the case), by kind; others are internal.
KINDS = (
    "received",
    "routed",
    "status",
    "escalated",
    "body_response",
    "deadline_missed",
    "reply",
    "satisfaction",
    "merged",
    "withdrawn",
    "reopened",
)

ACTION_STATUS = {
    "acknowledge": "acknowledged",
    "action_taken": "responded",
    "resolved": "resolved",
    "not_ours": "not_ours",
}


@dataclass
class Line:
    at: datetime
    what: str
    detail: str = ""


@pass_context
def _when(context: Any, at: datetime | None, fmt: str = "%Y-%m-%d %H:%M", label: bool = False) -> str:
    """`{{ at|when }}`: a stored UTC time in the case file's zone (`tz` in the context)."""
    return zones.show(at, context["tz"], fmt, label=label)


@lru_cache(maxsize=1)
def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape(["html"])
    )
    env.filters["when"] = _when
    return env


def _place_name(session: Session, place_id: int | None, language: str) -> str:
    names: list[str] = []
    place = session.get(Place, place_id) if place_id else None
    while place is not None and len(names) < 3:
        names.append(place.name_km if language == "km" and place.name_km else place.name_en)
        place = session.get(Place, place.parent_id) if place.parent_id else None
    return ", ".join(names)


def _body_name(body: GrievanceBody | None, language: str) -> str:
    if body is None:
        return "–"
    return body.name_km if language == "km" and body.name_km else body.name_en


def _timeline(session: Session, report: Report, language: str, bodies: dict[str, GrievanceBody]) -> list[Line]:
    _ = lambda m, **p: gettext(language, m, **p)  # noqa: E731
    lines = []
    for e in session.exec(
        select(ReportEvent)
        .where(ReportEvent.report_id == report.id, col(ReportEvent.kind).in_(KINDS))
        .order_by(col(ReportEvent.created_at), col(ReportEvent.id))
    ).all():
        d = e.detail or {}
        if e.kind == "status":
            lines.append(
                Line(
                    e.created_at,
                    _("Status changed"),
                    f"{_('status:' + str(d.get('from')))} → {_('status:' + str(d.get('to')))}",
                )
            )
        elif e.kind == "escalated":
            lines.append(Line(e.created_at, _("Escalated"), _body_name(bodies.get(str(d.get("body"))), language)))
        elif e.kind == "body_response":
            slug = e.actor.removeprefix("body:")
            lines.append(
                Line(
                    e.created_at,
                    _("The body answered"),
                    f"{_body_name(bodies.get(slug), language)}: {_('escalation:' + ACTION_STATUS.get(str(d.get('action')), 'responded'))}",
                )
            )
        elif e.kind == "deadline_missed":
            lines.append(Line(e.created_at, _("Deadline missed"), _body_name(bodies.get(str(d.get("body"))), language)))
        elif e.kind == "reply":
            lines.append(Line(e.created_at, _("Reply to the reporter")))
        elif e.kind == "satisfaction":
            lines.append(
                Line(e.created_at, _("The reporter's answer at closure"), _("satisfaction:" + str(d.get("answer"))))
            )
        elif e.kind == "received":
            lines.append(Line(e.created_at, _("Report received")))
        elif e.kind == "routed":
            lines.append(Line(e.created_at, _("Sent to the organisation's queue")))
        else:
            lines.append(Line(e.created_at, _("Other change")))
    return lines


def casefile_html(session: Session, report: Report, *, language: str, time_zone: str | None = None) -> str:
    """The case file's HTML; times in `time_zone` (the reader's), else the organisation's zone."""
    bodies = {b.slug: b for b in session.exec(select(GrievanceBody)).all()}
    by_id = {b.id: b for b in bodies.values()}
    escalations = session.exec(
        select(Escalation)
        .where(Escalation.report_id == report.id)
        .order_by(col(Escalation.created_at), col(Escalation.id))
    ).all()
    org = session.get(Organisation, report.org_id) if report.org_id else None
    _ = lambda m, **p: gettext(language, m, **p)  # noqa: E731
    tz = time_zone or zones.name_for(None, org)
    return (
        _env()
        .get_template("casefile.html")
        .render(
            lang=language,
            _=_,
            tz=tz,
            report=report,
            org=org.name if org else "–",
            place=_place_name(session, report.place_id, language),
            printed=now(),
            timeline=_timeline(session, report, language, bodies),
            escalations=[(e, _body_name(by_id.get(e.body_id), language)) for e in escalations],
            evidence=evidence_for_report(session, require_id(report)),
        )
    )


def casefile_pdf(session: Session, *, user: Principal, report_id: int, language: str) -> bytes:
    """The case file as PDF for someone who may see the case (NotFound otherwise). Audited."""
    if language not in LANGUAGES:
        language = "en"
    report = get_case(session, user=user, report_id=report_id)
    pdf = html_to_pdf(
        casefile_html(session, report, language=language, time_zone=org_zones.name_for_user(session, user))
    )
    record(
        session,
        actor=user.email,
        action="case.casefile",
        object_type="report",
        object_id=report.id,
        detail={"language": language},
    )
    return pdf
