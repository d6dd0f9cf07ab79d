"""Review-queue fixtures: two organisations with every role, cases in each, and a signed-in client.

Clients talk HTTPS to the in-process app (TestClient with an https:// base URL), because the
session cookie is `__Host-` and Secure: a real client never sends it over plain http except to
a loopback address.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from service.app import create_app
from service.config import Settings
from service.orgs.models import User
from service.orgs.service import create_org, create_user
from service.reports.models import Report
from tests.support.factories import make_report

PASSWORD = "correct-horse-battery"
ROLES = ("handler", "supervisor", "admin")


@dataclass
class World:
    orgs: dict[str, int] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)  # "a:handler", "b:admin", "platform"
    cases: dict[str, Report] = field(default_factory=dict)


def build_world(session: Session) -> World:
    world = World()
    for slug in ("a", "b"):
        org = create_org(session, slug=f"org-{slug}", name=f"Org {slug.upper()}")
        world.orgs[slug] = org.id  # type: ignore[assignment]
        for role in ROLES:
            world.users[f"{slug}:{role}"] = create_user(session, email=f"{role}@{slug}.test", org_slug=f"org-{slug}",
                                                        role=role, password=PASSWORD)
    world.users["platform"] = create_user(session, email="root@platform.test", org_slug=None, role="admin",
                                          password=PASSWORD)
    world.cases["a"] = make_report(session, org_id=world.orgs["a"], narrative="Org A case: nurse asked for money",
                                   consent_address="+85512000001", category="financial_hardship")
    world.cases["a2"] = make_report(session, org_id=world.orgs["a"], narrative="Org A second case")
    world.cases["b"] = make_report(session, org_id=world.orgs["b"], narrative="Org B case: police at the drop-in",
                                   consent_address="+85512000002", urgency="urgent")
    world.cases["b2"] = make_report(session, org_id=world.orgs["b"], narrative="Org B second case")
    world.cases["unrouted"] = make_report(session, org_id=None, narrative="Nobody routed this yet")
    session.commit()
    return world


@pytest.fixture
def world(engine: Engine) -> World:
    with Session(engine, expire_on_commit=False) as session:
        return build_world(session)


@pytest.fixture
def app(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    """The whole app in process, spoken to over https://testserver; not signed in."""
    with TestClient(create_app(settings), base_url="https://testserver") as client:
        yield client


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "page has no CSRF token"
    return found.group(1)


def sign_in(client: TestClient, email: str, password: str = PASSWORD, **extra: str) -> Any:
    """Sign in through the login form (as a browser would); returns the response."""
    client.cookies.clear()
    token = csrf_of(client.get("/").text)
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token, **extra},
                       follow_redirects=False)


def bearer(client: TestClient, email: str, password: str = PASSWORD) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", data={"username": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


class Clock:
    """Moves service.kit.clock.now (which the auth and queue code look up at call time)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import service.kit.clock as clock

        self.offset = timedelta()
        real = clock.now
        monkeypatch.setattr(clock, "now", lambda: real() + self.offset)

    def advance(self, **delta: float) -> None:
        self.offset += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)
