"""`samleng telegram set-webhook` and `samleng telegram poll` against the fake Bot API."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from sqlmodel import Session, select

from service.cli import main
from service.reports.models import Report
from tests.support.database import TEST_KEYS, configure
from tests.support.processes import ROOT, stop
from tests.support.telegram_fake import BOT_TOKEN, SECRET, TelegramUser


def test_set_webhook_registers_url_secret_and_update_kinds(settings, monkeypatch, bot_api, capsys) -> None:  # type: ignore[no-untyped-def]
    configure(monkeypatch, TELEGRAM_BOT_TOKEN=BOT_TOKEN, TELEGRAM_WEBHOOK_SECRET=SECRET,
              TELEGRAM_API_BASE=bot_api.base_url, SAMLENG_PUBLIC_URL="https://samleng.example.org")
    assert main(["telegram", "set-webhook"]) == 0
    call = bot_api.of("setWebhook")[-1]
    assert call.params["url"] == "https://samleng.example.org/webhooks/telegram"
    assert call.params["secret_token"] == SECRET
    assert call.params["allowed_updates"] == ["message", "callback_query"]
    assert bot_api.of("setMyCommands")
    portuguese = [c for c in bot_api.of("setMyCommands") if c.params.get("language_code") == "pt"]
    assert portuguese and "Fazer uma queixa" in str(portuguese[-1].params["commands"]), \
        "a Portuguese Telegram shows the command menu in Portuguese"
    assert "webhook set" in capsys.readouterr().out


def test_set_webhook_without_token_is_a_clear_error(settings, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    configure(monkeypatch, TELEGRAM_BOT_TOKEN="")
    assert main(["telegram", "set-webhook"]) == 2
    assert "TELEGRAM_BOT_TOKEN" in capsys.readouterr().err


def test_poll_mode_takes_a_report(settings, database_url, engine, bot_api, places, tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = {**os.environ, **TEST_KEYS, "SAMLENG_ENV": "test", "SAMLENG_DATABASE_URL": database_url,
           "TELEGRAM_BOT_TOKEN": BOT_TOKEN, "TELEGRAM_API_BASE": bot_api.base_url,
           "SAMLENG_VAR_DIR": str(tmp_path / "var"), "SAMLENG_SPOOL_DIR": str(tmp_path / "spool"),
           "PYTHONPATH": str(ROOT)}  # this checkout's code, whatever `samleng` on the PATH would run
    user = TelegramUser(client=None, api=bot_api)  # type: ignore[arg-type]
    bot_api.updates.append(user.message_update(text="No TB medicine at the mine clinic since Monday"))
    proc = subprocess.Popen([sys.executable, "-m", "service.cli", "telegram", "poll"], env=env,
                            cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not bot_api.of("sendMessage"):
            assert proc.poll() is None, "poll exited"
            assert time.monotonic() < deadline, "no answer in poll mode"
            time.sleep(0.1)
    finally:
        stop(proc, signal.SIGINT)
    assert bot_api.of("deleteWebhook"), "a webhook would block getUpdates"
    assert "What is it about" in bot_api.last_sent().params["text"]
    with Session(engine) as s:
        assert s.exec(select(Report)).one().channel == "telegram"
