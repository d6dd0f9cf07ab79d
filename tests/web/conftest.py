"""Fixtures for the web tests of escalation, evidence and the supervisor pages."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from service.bodies.service import load_bodies
from service.demo import ORGS
from service.orgs.service import create_org, create_user
from service.routing.service import load_rules
from tests.escalation.factories import make_case
from tests.support.review import PASSWORD

PHONE = "+85512777999"


@pytest.fixture
def khana(engine, places, settings, tmp_path):  # type: ignore[no-untyped-def]
    """Demo organisations, bodies and rules; a handler, supervisor and admin of KHANA and of the legal-aid
    network; one routed KHANA case with a consented contact."""
    settings.evidence_dir = str(tmp_path / "evidence")
    with Session(engine, expire_on_commit=False) as s:
        for slug, name in ORGS:
            create_org(s, slug=slug, name=name)
        load_bodies(s)
        load_rules(s)
        for org, domain in (("khana-demo", "khana.test"), ("legal-aid-demo", "legal.test")):
            for role in ("handler", "supervisor", "admin"):
                create_user(s, email=f"{role}@{domain}", org_slug=org, role=role, password=PASSWORD)
        case = make_case(s, address=PHONE)
        s.commit()
        assert case.org_id is not None
        return case
