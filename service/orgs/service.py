"""Organisations and users: idempotent creation, password hashing (argon2id)."""

from __future__ import annotations

from typing import NamedTuple

from argon2 import PasswordHasher
from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from service.kit import workingtime, zones
from service.kit.errors import InvalidInput
from service.kit.fastsql import FastQuery, session_connection
from service.orgs.models import ROLES, Organisation, User
from service.orgs.passwords import check_new

# OWASP ASVS 5.0 / OWASP cheat sheet minimum for argon2id: m=19 MiB, t=2, p=1.
hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


def create_org(
    session: Session, *, slug: str, name: str, time_zone: str | None = None, language: str | None = None
) -> Organisation:
    """Create an organisation, or return the existing one with this slug (name updated; the time zone
    and the alert emails' language too when one is given)."""
    if language is not None and language not in ("km", "en", "pt"):
        raise InvalidInput("language must be km, en or pt")
    if not slug or not slug.replace("-", "").replace("_", "").isalnum() or len(slug) > 64:
        raise InvalidInput("slug must be letters, digits, - or _ (max 64)")
    org = session.exec(select(Organisation).where(Organisation.slug == slug)).first()
    if org is None:
        org = Organisation(slug=slug, name=name)
    else:
        org.name = name
    if time_zone:
        org.time_zone = zones.checked(time_zone)
    if language:
        org.language = language
    session.add(org)
    session.flush()
    return org


def create_user(session: Session, *, email: str, org_slug: str | None, role: str, password: str) -> User:
    """Create or update a user; `admin` without an organisation is a platform administrator."""
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}")
    if "@" not in email or len(email) > 254:
        raise InvalidInput("email is not valid")
    check_new(password)
    org_id = None
    if org_slug:
        org = session.exec(select(Organisation).where(Organisation.slug == org_slug)).first()
        if org is None:
            raise InvalidInput(f"no organisation {org_slug!r}")
        org_id = org.id
    elif role != "admin":
        raise InvalidInput("handlers and supervisors belong to an organisation (--org)")
    user = session.exec(select(User).where(User.email == email.lower())).first()
    if user is None:
        user = User(email=email.lower(), org_id=org_id, role=role, password_hash=hasher.hash(password))
    else:
        user.org_id, user.role, user.password_hash = org_id, role, hasher.hash(password)
    session.add(user)
    session.flush()
    return user


def set_org_time_zone(session: Session, *, slug: str, time_zone: str | None) -> Organisation:
    """Set the zone an organisation's handlers read times in (None/"": the platform's). Its reports'
    local days move: `service.flows.zones.set_org_time_zone` also has the analytics count them again."""
    org = session.exec(select(Organisation).where(Organisation.slug == slug)).first()
    if org is None:
        raise InvalidInput(f"no organisation {slug!r}")
    org.time_zone = zones.checked(time_zone) if time_zone else None
    session.add(org)
    session.flush()
    return org


def set_org_calendar(
    session: Session, *, slug: str, working_hours: str | None, holiday_country: str | None
) -> tuple[Organisation, dict]:
    """Set an organisation's working calendar: its working hours ("mon-fri 08:00-17:00"; None/"": that
    default) and the country whose public holidays it keeps (KH, ZA, LS, MZ, SZ, BW, MW; None/"": none).
    Grievance bodies that count their deadline in working time without a calendar of their own use it.
    Returns the organisation and what changed ({field: [before, after]}) for the audit log."""
    org = session.exec(select(Organisation).where(Organisation.slug == slug)).first()
    if org is None:
        raise InvalidInput(f"no organisation {slug!r}")
    hours = workingtime.describe(workingtime.parse_hours(working_hours)) if working_hours else None
    country = workingtime.checked_country(holiday_country)
    changed = {
        k: [old, new]
        for k, old, new in (
            ("working_hours", org.working_hours, hours),
            ("holiday_country", org.holiday_country, country),
        )
        if old != new
    }
    org.working_hours, org.holiday_country = hours, country
    session.add(org)
    session.flush()
    return org, changed


def set_user_time_zone(session: Session, *, user: User, time_zone: str | None) -> User:
    """A user's own zone (account page); None/"": their organisation's."""
    user.time_zone = zones.checked(time_zone) if time_zone else None
    session.add(user)
    session.flush()
    return user


def set_body_alert(session: Session, *, org: Organisation, below: int | None) -> Organisation:
    """The on-time share (1-100 percent) under which the organisation's supervisors hear about a
    grievance body; None switches the alert off."""
    if below is not None and not 1 <= below <= 100:
        raise InvalidInput("the share must be a whole percent from 1 to 100, or empty to switch the alert off")
    org.body_alert_below = below
    session.add(org)
    session.flush()
    return org


class Member(NamedTuple):
    """An active user of an organisation, as the case page's "Assign to" lists them."""

    id: int
    email: str


# Every case page lists them: compiled once.
_MEMBERS = FastQuery(
    select(User.id, User.email)
    .where(User.org_id == bindparam("org_id"), col(User.is_active).is_(True))
    .order_by(col(User.email)),
    Member,
)


def active_members(session: Session, org_id: int) -> list[Member]:
    """The organisation's active users, by email."""
    return _MEMBERS.all(session_connection(session), {"org_id": org_id})
