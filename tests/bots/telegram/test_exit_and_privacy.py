"""The clean exit deletes the conversation; ids never reach the database or the logs; no contact button."""

from __future__ import annotations

import json
import logging

from sqlmodel import Session, select

from bots.telegram.models import TelegramChat, TelegramTrace
from service.intake.models import ContactVault
from service.kit.crypto import unseal
from service.ops.logs import configure_logging
from service.worker import Worker
from tests.bots.sms.test_anonymity import database_text

USER_ID = 7_345_612_987


def full_report(tg, consent: str = "No") -> None:  # type: ignore[no-untyped-def]
    tg.send("/start")
    tg.send("Sokha at the HC demanded 20000 riel before my ARV refill")
    tg.press("Fees or money")
    tg.send("Chrey")
    tg.press(consent)


def test_clean_exit_deletes_every_message_of_the_conversation(tg, bot_api, engine) -> None:  # type: ignore[no-untyped-def]
    full_report(tg)
    user_ids = [u["message"]["message_id"] for u in tg.posted if "message" in u]
    bot_ids = [c.result["message_id"] for c in bot_api.of("sendMessage")]
    offer = bot_api.last_sent()
    assert offer.params["text"].startswith("Do you want us to delete this conversation")
    tg.press("Delete the conversation", message=offer)
    reminder = bot_api.of("editMessageText")[-1]
    code = [t for t in bot_api.sent_texts() if "receipt code is" in t][-1].split("receipt code is ")[1][:9]
    assert code in reminder.params["text"] and "write down" in reminder.params["text"]
    assert bot_api.of("deleteMessage") == [], "nothing is deleted before the reminder is confirmed"
    tg.press("I noted it, delete now")
    deleted = {int(c.params["message_id"]) for c in bot_api.of("deleteMessage")}
    assert deleted == set(user_ids) | set(bot_ids)
    assert {int(c.params["chat_id"]) for c in bot_api.of("deleteMessage")} == {USER_ID}
    assert bot_api.of("answerCallbackQuery")[-1].params.get("text") == "Deleted."
    with Session(engine) as s:
        assert s.exec(select(TelegramTrace)).all() == [], "message ids are erased after the deletion"
        assert s.exec(select(TelegramChat)).all() == []


def test_keeping_the_conversation_deletes_nothing(tg, bot_api, engine) -> None:  # type: ignore[no-untyped-def]
    full_report(tg)
    tg.press("Keep it")
    assert bot_api.of("deleteMessage") == []
    assert "stays" in bot_api.of("editMessageText")[-1].params["text"]
    with Session(engine) as s:
        assert s.exec(select(TelegramChat)).all() == []


def id_forms(value: int) -> list[bytes]:
    return [str(value).encode(), json.dumps(value).encode(), value.to_bytes(8, "little"), value.to_bytes(8, "big")]


def test_user_and_chat_id_absent_from_database_and_logs_without_consent(tg, bot_api, engine, caplog, capfd,  # type: ignore[no-untyped-def]
                                                                        settings) -> None:
    configure_logging("DEBUG")
    caplog.set_level(logging.DEBUG)
    full_report(tg, consent="No")
    tg.send("/status 0000-0000")
    tg.send("/help")
    tg.press("Delete the conversation")
    Worker(engine, settings).run_once()
    blob = database_text(engine)
    for form in id_forms(USER_ID):
        assert form not in blob, "the Telegram user/chat id is in the database"
    for name in (b"Chanthou", b"chanthou_pp"):
        assert name not in blob
    logs = caplog.text + "".join(capfd.readouterr())
    assert "inbound telegram message" in logs, "the capture must see the app's own lines"
    assert "failed" not in logs
    assert str(USER_ID) not in logs and "Chanthou" not in logs and "Sokha" not in logs and "20000" not in logs
    assert "TEST-fake-token" not in logs, "the bot token must not be logged"
    with Session(engine) as s:
        assert s.exec(select(ContactVault)).all() == []


def test_with_consent_the_chat_id_is_only_in_the_vault_encrypted(tg, bot_api, engine) -> None:  # type: ignore[no-untyped-def]
    full_report(tg, consent="Yes")
    blob = database_text(engine)
    for form in id_forms(USER_ID):
        assert form not in blob
    with Session(engine) as s:
        entry = s.exec(select(ContactVault)).one()
        assert entry.channel == "telegram" and unseal(entry.address_sealed) == str(USER_ID)


def test_no_button_ever_asks_for_contact_or_location(tg, bot_api) -> None:  # type: ignore[no-untyped-def]
    full_report(tg)
    tg.send("/language")
    tg.send("/help")
    tg.send("Another report")
    tg.press("Stigma or discrimination")
    for call in bot_api.calls:
        dumped = json.dumps(call.params)
        assert "request_contact" not in dumped and "request_location" not in dumped
        markup = call.params.get("reply_markup")
        if markup:
            assert set(markup) == {"inline_keyboard"}, "only inline keyboards"
