"""Grievance bodies: registry, jurisdiction look-up, secrets for integrators. Plain functions; callers commit."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlmodel import Session, col, delete, select

from service.bodies.models import LEVEL_DEADLINE_HOURS, LEVELS, BodyPlace, GrievanceBody
from service.config import get_settings
from service.kit.clock import now
from service.kit import workingtime, zones
from service.kit.crypto import seal, unseal
from service.kit.errors import InvalidInput, NotFound
from service.kit.i18n import gettext
from service.kit.netguard import AddressRefused, check_url
from service.kit.models import require_id
from service.places.models import Place

DATA_FILE = Path(__file__).parent / "data" / "bodies.yaml"
LANGUAGES = ("km", "en", "pt")  # what a body's emails and response page can be written in


def display_name(body: GrievanceBody, language: str) -> str:
    """The body's name in `language`: its English name in English; its Khmer name in Khmer when it has one
    of its own; otherwise the catalogues' translation of its English name (the bundled bodies' names are
    in them), else its English name as written (a deployment's own body nobody translated yet)."""
    if language == "en":
        return body.name_en
    if language == "km" and body.name_km and body.name_km != body.name_en:
        return body.name_km
    return gettext(language, body.name_en)


def upsert_body(
    session: Session,
    *,
    slug: str,
    name_en: str,
    name_km: str | None = None,
    level: str,
    language: str = "en",
    network: str | None = None,
    categories: list[str] | None = None,
    deadline_hours: int | None = None,
    email: str | None = None,
    webhook_url: str | None = None,
    sms: str | None = None,
    places: list[str] | None = None,
    active: bool = True,
    deadline_counting: str = "calendar",
    time_zone: str | None = None,
    working_hours: str | None = None,
    holiday_country: str | None = None,
) -> GrievanceBody:
    """Create or update a body by slug; `places` are place codes (its jurisdiction). Its deadline counts in
    calendar time, or in working time (`deadline_counting="working"`) by its calendar: `time_zone`,
    `working_hours` ("mon-fri 08:00-17:00") and `holiday_country` (KH, ZA, …), each empty for the
    organisation handling the case's."""
    if level not in LEVELS:
        raise InvalidInput(f"level must be one of {', '.join(LEVELS)}")
    if language not in LANGUAGES:
        raise InvalidInput("language must be km, en or pt")
    if not slug or len(slug) > 64 or not slug.replace("-", "").replace("_", "").isalnum():
        raise InvalidInput("slug must be letters, digits, - or _ (max 64)")
    if email is not None and "@" not in email:
        raise InvalidInput("email is not valid")
    if webhook_url is not None and not webhook_url.startswith(("https://", "http://")):
        raise InvalidInput("webhook_url must be an http(s) URL")
    if webhook_url:
        try:
            check_url(webhook_url, allow=get_settings().webhook_allow_networks, resolve=False)
        except AddressRefused as exc:
            raise InvalidInput(f"webhook_url refused: {exc}") from None
    if deadline_counting not in workingtime.COUNTINGS:
        raise InvalidInput("a deadline counts in calendar time or in working time")
    time_zone = zones.checked(time_zone) if time_zone else None
    working_hours = workingtime.describe(workingtime.parse_hours(working_hours)) if working_hours else None
    holiday_country = workingtime.checked_country(holiday_country)
    body = session.exec(select(GrievanceBody).where(GrievanceBody.slug == slug)).first()
    if body is None:
        body = GrievanceBody(slug=slug, name_en=name_en, name_km=name_km or name_en, level=level)
    body.name_en, body.name_km, body.level, body.language = name_en, name_km or name_en, level, language
    body.network = network
    body.categories = list(categories or [])
    body.deadline_hours, body.email, body.webhook_url, body.active = deadline_hours, email, webhook_url, active
    body.sms_sealed = seal(sms) if sms else None
    body.deadline_counting, body.time_zone = deadline_counting, time_zone
    body.working_hours, body.holiday_country = working_hours, holiday_country
    body.updated_at = now()
    session.add(body)
    session.flush()
    if webhook_url and body.webhook_secret_sealed is None:
        set_webhook_secret(session, body)
    if places is not None:
        set_jurisdiction(session, body, places)
    return body


def set_jurisdiction(session: Session, body: GrievanceBody, place_codes: list[str]) -> None:
    """Replace the places a body covers (each covers everything under it)."""
    ids = []
    for code in place_codes:
        place = session.exec(select(Place).where(Place.code == code)).first()
        if place is None:
            raise InvalidInput(f"unknown place code {code!r}")
        ids.append(require_id(place))
    session.exec(delete(BodyPlace).where(col(BodyPlace.body_id) == body.id))
    for place_id in dict.fromkeys(ids):
        session.add(BodyPlace(body_id=require_id(body), place_id=place_id))
    session.flush()


def get_body(session: Session, slug: str) -> GrievanceBody:
    body = session.exec(select(GrievanceBody).where(GrievanceBody.slug == slug)).first()
    if body is None:
        raise NotFound(f"no grievance body {slug!r}")
    return body


def list_bodies(session: Session) -> list[GrievanceBody]:
    return list(session.exec(select(GrievanceBody).order_by(col(GrievanceBody.slug))).all())


def jurisdiction_codes(session: Session, body: GrievanceBody) -> list[str]:
    rows = session.exec(
        select(Place.code)
        .join(BodyPlace, col(BodyPlace.place_id) == col(Place.id))
        .where(BodyPlace.body_id == body.id)
        .order_by(col(Place.code))
    ).all()
    return list(rows)


def deadline_for(body: GrievanceBody) -> timedelta:
    """How long a body has to answer: its own setting, else its level's default."""
    return timedelta(hours=body.deadline_hours or LEVEL_DEADLINE_HOURS[body.level])


def handles(body: GrievanceBody, category: str | None) -> bool:
    return not body.categories or category is None or category in body.categories


def ancestors(session: Session, place_id: int | None) -> list[Place]:
    """The place and every place above it, nearest first."""
    chain: list[Place] = []
    seen: set[int] = set()
    while place_id is not None and place_id not in seen:
        place = session.get(Place, place_id)
        if place is None:
            break
        chain.append(place)
        seen.add(place_id)
        place_id = place.parent_id
    return chain


def resolve_level(
    session: Session,
    *,
    level: str,
    place_id: int | None,
    category: str | None,
    network: str | None = None,
) -> GrievanceBody | None:
    """The active body of this level (and network) whose jurisdiction covers the place most closely."""
    chain = ancestors(session, place_id)
    if not chain:
        return None
    rank = {p.id: i for i, p in enumerate(chain)}
    rows = session.exec(
        select(GrievanceBody, BodyPlace.place_id)
        .join(BodyPlace, col(BodyPlace.body_id) == col(GrievanceBody.id))
        .where(
            GrievanceBody.level == level,
            GrievanceBody.active == True,  # noqa: E712
            col(BodyPlace.place_id).in_(list(rank)),
        )
    ).all()
    candidates = [
        (rank[pid], body.slug, body)
        for body, pid in rows
        if handles(body, category) and (network is None or body.network == network)
    ]
    return min(candidates, key=lambda c: (c[0], c[1]))[2] if candidates else None


# -- secrets for integrating bodies -------------------------------------------------------
def set_webhook_secret(session: Session, body: GrievanceBody, secret: str | None = None) -> str:
    """Set (or generate) the Standard Webhooks signing secret `whsec_<base64>`; returns it."""
    secret = secret or "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    if not secret.startswith("whsec_"):
        raise InvalidInput("a webhook secret looks like whsec_<base64>")
    base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    body.webhook_secret_sealed = seal(secret)
    session.add(body)
    return secret


def webhook_secret(body: GrievanceBody) -> str | None:
    return unseal(body.webhook_secret_sealed) if body.webhook_secret_sealed else None


def _token_hash(token: str) -> str:
    key = hmac.new(get_settings().secret_key.encode(), b"samleng:body-token", hashlib.sha256).digest()
    return hmac.new(key, token.encode(), hashlib.sha256).hexdigest()


def issue_api_token(session: Session, body: GrievanceBody) -> str:
    """A new bearer token for the body's API answers (shown once; only a keyed hash is kept)."""
    token = "sbt_" + secrets.token_urlsafe(32)
    body.api_token_hash = _token_hash(token)
    session.add(body)
    return token


def body_by_token(session: Session, token: str) -> GrievanceBody | None:
    if not token.startswith("sbt_"):
        return None
    return session.exec(
        select(GrievanceBody).where(GrievanceBody.api_token_hash == _token_hash(token), GrievanceBody.active == True)
    ).first()  # noqa: E712


def focal_sms(body: GrievanceBody) -> str | None:
    return unseal(body.sms_sealed) if body.sms_sealed else None


def load_bodies(session: Session, path: Path | None = None) -> int:
    """Insert or update every body in the YAML file (idempotent); returns how many."""
    data: list[dict[str, Any]] = yaml.safe_load((path or DATA_FILE).read_text(encoding="utf-8"))["bodies"]
    for item in data:
        upsert_body(
            session,
            slug=item["slug"],
            name_en=item["name_en"],
            name_km=item.get("name_km"),
            level=item["level"],
            language=item.get("language", "en"),
            network=item.get("network"),
            categories=item.get("categories"),
            deadline_hours=item.get("deadline_hours"),
            email=item.get("email"),
            webhook_url=item.get("webhook_url"),
            sms=item.get("sms"),
            places=item.get("places") or [],
            deadline_counting=item.get("deadline_counting", "calendar"),
            time_zone=item.get("time_zone"),
            working_hours=item.get("working_hours"),
            holiday_country=item.get("holiday_country"),
        )
    return len(data)
