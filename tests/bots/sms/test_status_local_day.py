"""A STATUS reply gives the day of the last update where the case is handled, not the UTC day."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from service.kit import clock
from tests.support.twilio_fake import Phone


@pytest.fixture
def evening() -> object:
    """The clock at the next 20:30 UTC: already the next day in Phnom Penh (UTC+7)."""
    clock.reset()
    current = clock.now()
    target = current.replace(hour=20, minute=30, second=0, microsecond=0)
    if target <= current:
        target += timedelta(days=1)
    clock.advance(target - current)
    yield target
    clock.reset()


def test_status_reply_gives_the_local_day(phone: Phone, evening: datetime) -> None:
    made = evening  # an unrouted report: the platform's zone, Phnom Penh (UTC+7)
    phone.text("No ARV this month")
    phone.text("1")
    phone.text("0")
    code = re.search(r"([0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4})", phone.text("0")).group(1)  # type: ignore[union-attr]
    reply = phone.text(f"STATUS {code}")
    local_day = made.astimezone(ZoneInfo("Asia/Phnom_Penh")).date()
    assert f"Last update {local_day:%Y-%m-%d}" in reply, reply
