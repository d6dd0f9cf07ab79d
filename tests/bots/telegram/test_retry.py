"""When the Bot API fails while an update is processed, the stored update is tried again later."""

from __future__ import annotations

import time

from sqlmodel import Session, select

import bots.telegram.bot as bot_module
from service.inbox.models import PendingUpdate
from service.reports.models import Report
from tests.bots.telegram.conftest import make_user


def test_bot_api_failure_is_retried_from_the_inbox(monkeypatch, telegram_server, bot_api, engine) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(bot_module, "SWEEP_SECONDS", 0.3)
    user = make_user(telegram_server, bot_api)
    bot_api.fail_methods.add("sendMessage")
    user.send("The lab lost my sputum sample twice")
    with Session(engine) as s:
        row = s.exec(select(PendingUpdate)).one()
        assert row.processed_at is None and row.attempts == 1 and row.payload_sealed is not None
        assert len(s.exec(select(Report)).all()) == 1, "the report is safe already"
    bot_api.fail_methods.clear()
    deadline = time.monotonic() + 20
    while True:
        with Session(engine) as s:
            row = s.exec(select(PendingUpdate)).one()
            if row.processed_at is not None:
                break
        assert time.monotonic() < deadline, "not retried"
        time.sleep(0.1)
    assert row.attempts == 2 and row.payload_sealed is None
    ok = [c for c in bot_api.of("sendMessage") if "What is it about" in str(c.params.get("text"))]
    assert len(ok) == 2, "the first send failed at the API, the retry re-sent the stored answer"
    with Session(engine) as s:
        assert len(s.exec(select(Report)).all()) == 1, "no second report"
