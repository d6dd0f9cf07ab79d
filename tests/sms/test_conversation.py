"""Whole SMS conversations through real HTTP with real Twilio signatures."""

from __future__ import annotations

import re

import pytest
from sqlmodel import Session, select

from service.inbox.models import InboundMessage
from service.intake.models import ContactVault, Conversation
from service.kit import receipts
from service.kit.crypto import receipt_hash
from service.reports.models import Report
from tests.support.database import configure
from tests.support.twilio_fake import AUTH_TOKEN, Phone

CODE = re.compile(r"\b([0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4})\b")


@pytest.fixture
def phone(live_server, monkeypatch) -> Phone:  # type: ignore[no-untyped-def]
    return Phone(client=live_server.client, base_url=live_server.base_url, token=None)


@pytest.fixture
def signed_server(settings, monkeypatch, engine, places):  # type: ignore[no-untyped-def]
    configure(monkeypatch, TWILIO_AUTH_TOKEN=AUTH_TOKEN)
    return None


def reports(engine) -> list[Report]:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return list(s.exec(select(Report)).all())


def test_english_conversation_ends_with_receipt_code(live_server, engine) -> None:  # type: ignore[no-untyped-def]
    phone = Phone(client=live_server.client, base_url=live_server.base_url, token=None)
    first = phone.text("The health centre had no ARV for two weeks and the nurse asked me for 5000 riel")
    assert "saved" in first and "1" in first and "0" in first
    assert len(reports(engine)) == 1, "the first message is a report at once"
    assert "Where" in phone.text("3")
    assert "contact" in phone.text("Chrey health centre")
    final = phone.text("no")
    match = CODE.search(final)
    assert match, final
    with Session(engine) as s:
        report = s.exec(select(Report)).one()
        assert report.category == "financial_hardship"
        # assert report.place_id is not None
        assert report.consent_followup is False
        assert report.receipt_hash == receipt_hash(receipts.parse(match.group(1)))  # type: ignore[arg-type]
        assert s.exec(select(Conversation)).first() is None
        assert s.exec(select(ContactVault)).first() is None
        assert len(s.exec(select(InboundMessage)).all()) == 4
