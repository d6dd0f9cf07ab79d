"""An organisation's time zone changes: its reports' local days move, so the analytics count them again."""

from __future__ import annotations

from sqlmodel import Session, select

from service.analytics import rollup
from service.orgs import service as orgs
from service.orgs.models import Organisation


def _zone_of(session: Session, slug: str) -> tuple[bool, str | None]:
    org = session.exec(select(Organisation).where(Organisation.slug == slug)).first()
    return (org is not None and org.id is not None), (org.time_zone if org is not None else None)


def create_org(
    session: Session, *, slug: str, name: str, time_zone: str | None = None, language: str | None = None
) -> Organisation:
    """`orgs.create_org`, and the analytics recounted when an existing organisation's zone changed."""
    existed, before = _zone_of(session, slug)
    org = orgs.create_org(session, slug=slug, name=name, time_zone=time_zone, language=language)
    if existed and org.time_zone != before:
        rollup.invalidate(session)
    return org


def set_org_time_zone(session: Session, *, slug: str, time_zone: str | None) -> Organisation:
    """`orgs.set_org_time_zone`, and the analytics recounted when the zone changed."""
    _, before = _zone_of(session, slug)
    org = orgs.set_org_time_zone(session, slug=slug, time_zone=time_zone)
    if org.time_zone != before:
        rollup.invalidate(session)
    return org
