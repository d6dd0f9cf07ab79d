"""Plain factories for escalation tests."""

from __future__ import annotations

import json

from sqlmodel import Session, col, select

from service.intake.vault import store_contact
from service.kit.crypto import unseal
from service.outbox.models import OutboundMessage
from service.places.models import Place
from service.reports.models import Report
from service.reports.service import create_report, find_or_create_reporter
from service.flows.routing import route_report


def make_case(
    session: Session, *, narrative: str = "No ARV at the health centre, call me on 012 345 678",
    category: str = "service_quality", place: str | None = "KH-2-OD-THMORKOUL-HC-CHREY",
    population: str | None = "plhiv", address: str | None = None, language: str = "en", route: bool = True,
) -> Report:
    """A report as triage leaves it (routed), optionally with a consented contact in the vault."""
    reporter_id = None
    if address is not None:
        reporter, _ = find_or_create_reporter(session, channel="sms", address=address)
        reporter_id = reporter.id
    report, _ = create_report(session, channel="sms", reporter_id=reporter_id, narrative=narrative, language=language)
    report.category, report.population = category, population
    if place:
        report.place_id = session.exec(select(Place).where(Place.code == place)).one().id
    if address is not None:
        report.consent_followup = True
        store_contact(session, reporter_id=reporter_id, report_id=report.id, channel="sms", address=address)  # type: ignore[arg-type]
    session.add(report)
    session.flush()
    if route:
        route_report(session, report, actor="triage")
    return report


def outbox(session: Session, **where: object) -> list[OutboundMessage]:
    query = select(OutboundMessage).order_by(col(OutboundMessage.id))
    for key, value in where.items():
        query = query.where(getattr(OutboundMessage, key) == value)
    return list(session.exec(query).all())


def payload(row: OutboundMessage) -> dict:
    return json.loads(unseal(row.body_sealed)) if row.body_sealed else {}


def text_of(row: OutboundMessage) -> str:
    return unseal(row.body_sealed) if row.body_sealed else ""
