"""Grievance bodies managed from the web: create, edit, deactivate, issue and revoke a body's API token.

Who changes a body follows its owner (`GrievanceBody.owner_org_id`): a body an organisation's
supervisor or administrator creates belongs to that organisation, and its supervisors and
administrators manage it (edit, deactivate, API token). A body with no owner is shared (one
ministry's office receives cases routed by several CSOs): only a platform administrator (role
admin, no organisation) changes it, as it changes every body. National and regional bodies are
always shared: an organisation cannot create one or move its own body to those levels. Everyone
with a supervisor's role reads the whole list. Each change is audited with the names of the
fields that changed, never their values (a body's focal-person number is sealed).
Plain functions; callers commit.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from service.auth.principal import Principal
from service.audit.service import record
from service.bodies.models import LEVELS, GrievanceBody
from service.bodies.service import LANGUAGES, focal_sms, get_body, issue_api_token, jurisdiction_codes, upsert_body
from service.kit import workingtime, zones
from service.kit.errors import DomainError, InvalidInput
from service.reports.models import CATEGORIES


class NotAllowed(DomainError):
    """The user may not change this grievance body (a shared one, or another organisation's)."""


SHARED_LEVELS = ("national", "regional")
CLOCK_FIELDS = (
    "deadline_hours",
    "deadline_counting",
    "time_zone",
    "working_hours",
    "holiday_country",
)  # always shared: only a platform administrator creates them


def can_read(user: Principal) -> bool:
    return user.role in ("supervisor", "admin")


def is_platform_admin(user: Principal) -> bool:
    return user.role == "admin" and user.org_id is None


def can_create(user: Principal) -> bool:
    """A platform administrator, or an organisation's supervisor or administrator (for their organisation)."""
    return is_platform_admin(user) or (user.role in ("supervisor", "admin") and user.org_id is not None)


def can_change(user: Principal, body: GrievanceBody | None = None) -> bool:
    """May the user change this body? Without a body: may they change every body (a platform administrator)."""
    if is_platform_admin(user):
        return True
    return (
        body is not None
        and body.owner_org_id is not None
        and body.owner_org_id == user.org_id
        and user.role in ("supervisor", "admin")
    )


def require_change(user: Principal, body: GrievanceBody | None = None) -> None:
    if not can_change(user, body):
        raise NotAllowed(
            "this grievance body is shared or another organisation's: "
            "its organisation or a platform administrator changes it"
        )


@dataclass
class BodyForm:
    """What the body form sends, checked. `sms` empty keeps the stored number unless `clear_sms`."""

    slug: str
    name_en: str
    name_km: str
    level: str
    language: str = "en"
    network: str | None = None
    categories: tuple[str, ...] = ()
    deadline_hours: int | None = None
    email: str | None = None
    webhook_url: str | None = None
    sms: str | None = None
    clear_sms: bool = False
    places: tuple[str, ...] = ()
    deadline_counting: str = "calendar"  # or "working": docs/escalation.md, "Working time"
    time_zone: str | None = None
    working_hours: str | None = None
    holiday_country: str | None = None

    def check(self) -> "BodyForm":
        if not self.name_en.strip():
            raise InvalidInput("the English name is required")
        if len(self.name_en) > 200 or len(self.name_km) > 200:
            raise InvalidInput("a name has at most 200 characters")
        if self.level not in LEVELS:
            raise InvalidInput("unknown level")
        if self.language not in LANGUAGES:
            raise InvalidInput("language must be km, en or pt")
        if any(c not in CATEGORIES for c in self.categories):
            raise InvalidInput("unknown category")
        if self.deadline_hours is not None and not 1 <= self.deadline_hours <= 24 * 365:
            raise InvalidInput("the deadline is between 1 hour and a year")
        if self.network is not None and (
            len(self.network) > 32 or not self.network.replace("_", "").replace("-", "").isalnum()
        ):
            raise InvalidInput("network must be letters, digits, - or _ (max 32)")
        if self.sms is not None and not (
            self.sms.startswith("+") and self.sms[1:].isdigit() and 8 <= len(self.sms) <= 16
        ):
            raise InvalidInput("the focal person's number is written +country code and digits, e.g. +85512345678")
        if self.deadline_counting not in workingtime.COUNTINGS:
            raise InvalidInput("a deadline counts in calendar time or in working time")
        if self.time_zone:
            zones.checked(self.time_zone)
        if self.working_hours:
            workingtime.parse_hours(self.working_hours)
        workingtime.checked_country(self.holiday_country)
        return self


def _snapshot(session: Session, body: GrievanceBody) -> dict:
    return {
        "name_en": body.name_en,
        "name_km": body.name_km,
        "level": body.level,
        "language": body.language,
        "network": body.network,
        "categories": list(body.categories or []),
        "deadline_hours": body.deadline_hours,
        "email": body.email,
        "webhook_url": body.webhook_url,
        "sms": body.sms_sealed is not None and focal_sms(body),
        "places": jurisdiction_codes(session, body),
        "active": body.active,
        "deadline_counting": body.deadline_counting,
        "time_zone": body.time_zone,
        "working_hours": body.working_hours,
        "holiday_country": body.holiday_country,
    }


def save_body(session: Session, *, user: Principal, form: BodyForm, create: bool) -> GrievanceBody:
    """Create a body (its slug must be new) or edit one (the slug stays). A body an organisation's
    user creates belongs to their organisation; a platform administrator's is shared."""
    existing = None
    try:
        existing = get_body(session, form.slug)
    except DomainError:
        pass
    if create or existing is None:
        if not can_create(user):
            raise NotAllowed("grievance bodies are created by supervisors, administrators and platform administrators")
    else:
        require_change(user, existing)
    form.check()
    if not is_platform_admin(user) and form.level in SHARED_LEVELS:
        raise InvalidInput("national and regional bodies are shared: a platform administrator creates them")
    if create and existing is not None:
        raise InvalidInput("a body with this short name exists already")
    if not create and existing is None:
        raise InvalidInput("no such body")
    before = _snapshot(session, existing) if existing is not None else {}
    sms = None if form.clear_sms else (form.sms or (focal_sms(existing) if existing is not None else None))
    body = upsert_body(
        session,
        slug=form.slug,
        name_en=form.name_en.strip(),
        name_km=form.name_km.strip() or None,
        level=form.level,
        language=form.language,
        network=form.network,
        categories=list(form.categories),
        deadline_hours=form.deadline_hours,
        email=form.email,
        webhook_url=form.webhook_url,
        sms=sms,
        places=list(form.places),
        deadline_counting=form.deadline_counting,
        time_zone=form.time_zone,
        working_hours=form.working_hours,
        holiday_country=form.holiday_country,
        active=existing.active if existing is not None else True,
    )
    if existing is None:
        body.owner_org_id = user.org_id  # None for a platform administrator: a shared body
        session.add(body)
        session.flush()
    after = _snapshot(session, body)
    changed = sorted(k for k in after if before.get(k) != after[k]) if existing is not None else sorted(after)
    detail: dict = {"slug": body.slug, "fields": changed}
    # How its deadline counts is no secret: the audit keeps those values, before and after.
    clock = {k: [before.get(k), after[k]] for k in CLOCK_FIELDS if k in changed}
    if clock:
        detail["clock"] = clock
    record(
        session,
        actor=user.email,
        action="bodies.create" if create else "bodies.update",
        object_type="grievance_body",
        object_id=body.id,
        detail=detail,
    )
    return body


def set_active(session: Session, *, user: Principal, slug: str, active: bool) -> GrievanceBody:
    """Deactivate (no new escalations reach it; its waiting ones keep their deadline) or reactivate."""
    body = get_body(session, slug)
    require_change(user, body)
    if body.active == active:
        raise InvalidInput("the body is already active" if active else "the body is already inactive")
    body.active = active
    session.add(body)
    record(
        session,
        actor=user.email,
        action="bodies.activate" if active else "bodies.deactivate",
        object_type="grievance_body",
        object_id=body.id,
        detail={"before": {"active": not active}, "after": {"active": active}},
    )
    return body


def issue_token(session: Session, *, user: Principal, slug: str) -> str:
    """A new API token (the old one stops working); shown once, only its keyed hash is kept."""
    body = get_body(session, slug)
    require_change(user, body)
    if not body.active:
        raise InvalidInput("reactivate the body before giving it a token")
    replaced = body.api_token_hash is not None
    token = issue_api_token(session, body)
    record(
        session,
        actor=user.email,
        action="bodies.token",
        object_type="grievance_body",
        object_id=body.id,
        detail={"replaced": replaced},
    )
    return token


def revoke_token(session: Session, *, user: Principal, slug: str) -> GrievanceBody:
    body = get_body(session, slug)
    require_change(user, body)
    if body.api_token_hash is None:
        raise InvalidInput("the body has no API token")
    body.api_token_hash = None
    session.add(body)
    record(session, actor=user.email, action="bodies.token_revoke", object_type="grievance_body", object_id=body.id)
    return body
