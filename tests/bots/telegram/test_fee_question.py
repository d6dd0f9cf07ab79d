"""The fee question on Telegram: sent after the dialogue through the outbox and the worker's Telegram
driver (python-telegram-bot against the local Bot API fake), answered by typing."""

from __future__ import annotations

from sqlmodel import Session, select

from service.reports.models import Report
from service.worker import Worker
from tests.support.telegram_fake import FakeBotApi


def test_the_question_is_delivered_and_answered(tg, bot_api: FakeBotApi, engine, settings) -> None:  # type: ignore[no-untyped-def]
    tg.send("The pharmacist asked me for $5 for the free ARV")
    tg.press("Fees or money")
    tg.press("Skip")
    tg.press("Yes")
    before = len(bot_api.of("sendMessage"))
    assert Worker(engine, settings).run("deliver") >= 1
    sent = bot_api.of("sendMessage")[before:]
    assert [m.params["text"] for m in sent] == [
        "You mentioned paying 5 US dollars. Is that right? Reply 1 Yes or 2 No. 0 to skip."]
    assert int(sent[0].params["chat_id"]) == tg.user_id
    tg.send("no, it was 10 dollars")
    assert bot_api.last_sent().params["text"] == "Thank you. We noted 10 US dollars."
    with Session(engine) as s:
        report = s.exec(select(Report)).one()
        assert (report.fee_cents, report.fee_currency, report.fee_source) == (1000, "USD", "reporter")
