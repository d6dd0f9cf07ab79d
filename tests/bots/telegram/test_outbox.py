"""Messages after the live conversation go through the outbox and the worker's Telegram driver."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from bots.telegram.models import TelegramTrace
from service.inbox.models import PendingUpdate
from service.intake.vault import contact_for_report
from service.kit.clock import now
from service.outbox.models import OutboundMessage
from service.outbox.service import enqueue_message
from service.worker import Worker
from tests.support.telegram_fake import FakeBotApi


def test_case_update_reaches_a_consenting_reporter(tg, bot_api: FakeBotApi, engine, settings) -> None:  # type: ignore[no-untyped-def]
    tg.send("The doctor told my family I have HIV")
    tg.press("Stigma or discrimination")
    tg.press("Skip")
    tg.press("Yes")
    before = len(bot_api.of("sendMessage"))
    with Session(engine) as s:
        report_id = s.exec(select(OutboundMessage.id)).first()
        from service.reports.models import Report

        report = s.exec(select(Report)).one()
        channel, address = contact_for_report(s, report.id)  # type: ignore[misc, arg-type]
        assert channel == "telegram"
        row = enqueue_message(s, channel=channel, to=address, body="Your case was sent to the OD.",
                              report_id=report.id)
        s.commit()
        outbound_id = row.id
    assert report_id is None
    assert Worker(engine, settings).run_once()["delivered"] == 1
    sent = bot_api.of("sendMessage")[before:]
    assert len(sent) == 1 and sent[0].params["text"] == "Your case was sent to the OD."
    assert int(sent[0].params["chat_id"]) == tg.user_id
    with Session(engine) as s:
        row = s.get(OutboundMessage, outbound_id)
        assert row.status == "sent" and row.to_sealed is None  # type: ignore[union-attr]


def test_bot_api_5xx_is_retried_later(settings, monkeypatch, bot_api, engine) -> None:  # type: ignore[no-untyped-def]
    from tests.support.database import configure
    from tests.support.telegram_fake import BOT_TOKEN

    settings = configure(monkeypatch, TELEGRAM_BOT_TOKEN=BOT_TOKEN, TELEGRAM_API_BASE=bot_api.base_url)
    bot_api.fail_methods.add("sendMessage")
    with Session(engine) as s:
        row = enqueue_message(s, channel="telegram", to="42", body="hello")
        s.commit()
        outbound_id = row.id
    Worker(engine, settings).run_once()
    with Session(engine) as s:
        row = s.get(OutboundMessage, outbound_id)
        assert row.status == "pending" and row.attempts == 1, "a 5xx is retried later"  # type: ignore[union-attr]


def test_housekeeping_forgets_old_updates_and_message_ids(tg, bot_api, engine, settings) -> None:  # type: ignore[no-untyped-def]
    tg.send("A report whose traces will age")
    with Session(engine) as s:
        assert s.exec(select(TelegramTrace)).all()
        for trace in s.exec(select(TelegramTrace)).all():
            trace.created_at = now() - timedelta(hours=49)
            s.add(trace)
        for row in s.exec(select(PendingUpdate)).all():
            row.received_at = now() - timedelta(days=8)
            s.add(row)
        s.commit()
    Worker(engine, settings).run_once()
    with Session(engine) as s:
        assert s.exec(select(TelegramTrace)).all() == []
        assert s.exec(select(PendingUpdate)).all() == []
