"""Grievance bodies: registry, jurisdiction, deadlines, integrators' credentials."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from service.bodies import service as bodies
from service.bodies.models import GrievanceBody
from service.kit.errors import InvalidInput
from service.places.models import Place


@pytest.fixture
def loaded(session: Session, places) -> Session:  # type: ignore[no-untyped-def]
    bodies.load_bodies(session)
    return session


def place_id(session: Session, code: str) -> int:
    return session.exec(select(Place).where(Place.code == code)).one().id  # type: ignore[return-value]


def test_seed_loads_idempotently_with_names_in_both_languages(loaded: Session) -> None:
    first = len(bodies.list_bodies(loaded))
    bodies.load_bodies(loaded)
    all_bodies = bodies.list_bodies(loaded)
    assert len(all_bodies) == first >= 10
    pdcc = bodies.get_body(loaded, "bmc-pdcc")
    assert pdcc.name_km.startswith("គណៈកម្មាធិការ") and pdcc.level == "province" and pdcc.network == "drug_control"
    assert bodies.jurisdiction_codes(loaded, pdcc) == ["KH-1"]


def test_jurisdiction_picks_the_closest_body_of_a_level(loaded: Session) -> None:
    chrey = place_id(loaded, "KH-2-OD-THMORKOUL-HC-CHREY")
    found = {level: bodies.resolve_level(loaded, level=level, place_id=chrey, category="service_quality")
             for level in ("facility", "hcmc", "operational_district", "national")}
    assert {k: v.slug if v else None for k, v in found.items()} == {
        "facility": "chrey-hc", "hcmc": "chrey-hcmc", "operational_district": "thmorkoul-od", "national": "cenat"}
    assert bodies.resolve_level(loaded, level="province", place_id=chrey, category=None, network="health").slug == "battambang-phd"  # type: ignore[union-attr]
    elsewhere = place_id(loaded, "KH-1")
    assert bodies.resolve_level(loaded, level="hcmc", place_id=elsewhere, category=None) is None
    assert bodies.resolve_level(loaded, level="province", place_id=elsewhere, category=None, network="health") is None


def test_deadline_per_level_and_override(loaded: Session) -> None:
    assert bodies.deadline_for(bodies.get_body(loaded, "chrey-hc")) == timedelta(hours=72)
    assert bodies.deadline_for(bodies.get_body(loaded, "sadc-tb-mining")) == timedelta(hours=720)
    custom = bodies.upsert_body(loaded, slug="quick", name_en="Quick", level="facility", deadline_hours=6)
    assert bodies.deadline_for(custom) == timedelta(hours=6)


def test_webhook_secret_is_generated_sealed_and_in_standard_form(loaded: Session) -> None:
    body = bodies.upsert_body(loaded, slug="hooked", name_en="Hooked", level="national", webhook_url="https://x.example/h",
                              sms="+85512000999")
    secret = bodies.webhook_secret(body)
    assert secret and secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 24
    assert secret.encode() not in (body.webhook_secret_sealed or b"")
    assert bodies.focal_sms(body) == "+85512000999" and b"85512000999" not in (body.sms_sealed or b"")


def test_api_token_is_shown_once_and_only_its_keyed_hash_kept(loaded: Session) -> None:
    body = bodies.get_body(loaded, "nacd")
    token = bodies.issue_api_token(loaded, body)
    assert token.startswith("sbt_") and body.api_token_hash and token not in body.api_token_hash
    assert bodies.body_by_token(loaded, token).slug == "nacd"  # type: ignore[union-attr]
    assert bodies.body_by_token(loaded, token + "x") is None and bodies.body_by_token(loaded, "nope") is None
    bodies.issue_api_token(loaded, body)  # rotating revokes the old token
    assert bodies.body_by_token(loaded, token) is None


@pytest.mark.parametrize("bad", [{"level": "planetary"}, {"language": "fr"}, {"email": "not-an-email"},
                                 {"webhook_url": "ftp://x"}, {"places": ["XX-NOWHERE"]}, {"slug": "bad slug!"}])
def test_invalid_bodies_are_refused(loaded: Session, bad: dict) -> None:
    fields = {"slug": "new-body", "name_en": "New", "level": "facility", **bad}
    with pytest.raises(InvalidInput):
        bodies.upsert_body(loaded, **fields)
    assert loaded.exec(select(GrievanceBody).where(GrievanceBody.slug == "bad slug!")).first() is None
