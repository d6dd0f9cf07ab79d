"""The webhook: secret token, idempotency on update_id, bad input, storage before the answer."""

from __future__ import annotations

import json

from sqlalchemy import func
from sqlmodel import Session, select

from service.inbox.models import InboundMessage, PendingUpdate
from service.reports.models import Report
from tests.support.outage import Outage
from tests.support.telegram_fake import WEBHOOK_PATH


def count(engine, model) -> int:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(model)).one()


def test_wrong_or_missing_secret_is_refused_and_nothing_stored(tg, bot_api, engine) -> None:  # type: ignore[no-untyped-def]
    update = tg.message_update(text="A report that must not be stored")
    assert tg.post(update, secret=None).status_code == 403
    assert tg.post(update, secret="wrong-secret").status_code == 403
    assert tg.post(update, secret="test-webhook-secret-7f3a9c2e4").status_code == 403  # a prefix
    assert count(engine, PendingUpdate) == 0 and count(engine, Report) == 0
    assert bot_api.of("sendMessage") == []
    assert tg.post(update).status_code == 200
    assert count(engine, Report) == 1


def test_repeated_update_id_makes_one_report(tg, bot_api, engine) -> None:  # type: ignore[no-untyped-def]
    update = tg.message_update(text="They refused me treatment at the referral hospital")
    for _ in range(3):
        assert tg.post(update).status_code == 200
    assert count(engine, Report) == 1
    assert count(engine, PendingUpdate) == 1
    assert count(engine, InboundMessage) == 1
    assert len(bot_api.of("sendMessage")) == 1, "one answer for one update"


def test_bad_input_gets_a_clear_4xx(tg, telegram_server, engine) -> None:  # type: ignore[no-untyped-def]
    client = telegram_server.client
    headers = {"X-Telegram-Bot-Api-Secret-Token": tg.secret, "Content-Type": "application/json"}
    assert client.post(WEBHOOK_PATH, content=b"not json", headers=headers).status_code == 400
    assert client.post(WEBHOOK_PATH, content=b"[1,2]", headers=headers).status_code == 400
    assert client.post(WEBHOOK_PATH, content=json.dumps({"message": {}}), headers=headers).status_code == 400
    huge = json.dumps({"update_id": 1, "message": {"text": "x" * 300_000}})
    assert client.post(WEBHOOK_PATH, content=huge, headers=headers).status_code == 413
    # A group message is acknowledged and ignored: the bot takes reports in private chats only.
    group = tg.message_update(text="hello group")
    group["message"]["chat"] = {"id": -100123, "type": "group", "title": "g"}
    assert tg.post(group).status_code == 200
    assert count(engine, PendingUpdate) == 0


def test_database_down_answers_5xx_so_telegram_redelivers(settings, database_url, monkeypatch, bot_api, places,  # type: ignore[no-untyped-def]
                                                          tmp_path, request, engine) -> None:
    from tests.support.database import configure
    from tests.bots.telegram.conftest import make_user, telegram_env

    outage = Outage(database_url)
    try:
        env = telegram_env(bot_api, tmp_path)
        configure(monkeypatch, **env)
        settings.telegram_bot_token, settings.telegram_webhook_secret = env["TELEGRAM_BOT_TOKEN"], env["TELEGRAM_WEBHOOK_SECRET"]
        settings.telegram_api_base, settings.evidence_dir = env["TELEGRAM_API_BASE"], env["SAMLENG_EVIDENCE_DIR"]
        settings.database_url = outage.app_url
        server = request.getfixturevalue("live_server")
        user = make_user(server, bot_api)
        update = user.message_update(text="Stored only when the database is back")
        with outage.down():
            response = user.client.post(WEBHOOK_PATH, content=json.dumps(update), headers={
                "X-Telegram-Bot-Api-Secret-Token": user.secret, "Content-Type": "application/json"})
            assert response.status_code == 503
        assert count(engine, PendingUpdate) == 0
        assert user.post(update).status_code == 200  # Telegram's redelivery
        assert count(engine, Report) == 1
    finally:
        outage.close()


def test_not_configured_is_404(live_server) -> None:  # type: ignore[no-untyped-def]
    response = live_server.client.post(WEBHOOK_PATH, json={"update_id": 1})
    assert response.status_code == 404
