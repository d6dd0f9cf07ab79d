"""Fixtures for the SMS channel tests: a signed live server and a phone that texts it."""

from __future__ import annotations

import pytest

from tests.support.database import configure
from tests.support.twilio_fake import AUTH_TOKEN, Phone


@pytest.fixture
def live_server_signed(settings, monkeypatch, request):  # type: ignore[no-untyped-def]
    """The live server with TWILIO_AUTH_TOKEN set: every request must be signed."""
    configure(monkeypatch, TWILIO_AUTH_TOKEN=AUTH_TOKEN)
    settings.twilio_auth_token = AUTH_TOKEN
    return request.getfixturevalue("live_server")


@pytest.fixture
def phone(settings, places, live_server_signed) -> Phone:  # type: ignore[no-untyped-def]
    return Phone(client=live_server_signed.client, base_url=live_server_signed.base_url)
