"""Fixtures for escalation: seeded bodies and rules, a controlled clock, a mail server, a webhook receiver."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import Session

from service.bodies.service import load_bodies
from service.demo import ORGS
from service.kit import clock
from service.orgs.service import create_org
from service.routing.service import load_rules
from tests.support.database import configure
from tests.support.receiver import WebhookReceiver
from tests.support.smtp import SmtpServer


@pytest.fixture
def controlled_clock() -> Iterator[object]:
    clock.reset()
    yield clock
    clock.reset()


@pytest.fixture
def seeded(engine, places) -> None:  # type: ignore[no-untyped-def]
    """The demo organisations and the bundled bodies and rules."""
    with Session(engine) as s:
        for slug, name in ORGS:
            create_org(s, slug=slug, name=name)
        load_bodies(s)
        load_rules(s)
        s.commit()


@pytest.fixture
def smtp(settings, monkeypatch) -> Iterator[SmtpServer]:  # type: ignore[no-untyped-def]
    server = SmtpServer()
    new = configure(monkeypatch, SAMLENG_SMTP_URL=server.url)
    settings.smtp_url = new.smtp_url
    yield server
    server.stop()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    fake = WebhookReceiver()
    yield fake
    fake.stop()
