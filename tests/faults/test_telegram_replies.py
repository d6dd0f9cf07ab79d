"""A `serve` killed while handling a Telegram update handles it again at start-up (the update is
stored); the replies it had already sent are remembered per update and not sent again.

Real processes: the person answers the last question; the bot sends the receipt, remembers it,
and is SIGKILLed by the fake Bot API when it sends the next message (the clean-exit offer), before
the update is marked done. A new `serve` handles the stored update again: the person must not get
the receipt twice.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from bots.telegram.models import TelegramReply
from service.inbox.models import PendingUpdate
from tests.support.processes import procs, spawn_serve, wait_for, wait_until_serving  # noqa: F401  (fixtures)
from tests.support.server import free_port
from tests.support.telegram_fake import BOT_TOKEN, SECRET, Call, TelegramUser
from tests.bots.telegram.conftest import bot_api  # noqa: F401  (fixtures)

pytestmark = pytest.mark.slow


def processed(engine) -> int:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(PendingUpdate)
                      .where(PendingUpdate.processed_at.is_not(None))).one()  # type: ignore[union-attr]


def test_a_reply_sent_before_the_server_died_is_not_sent_again(settings, engine, bot_api, places, tmp_path: Path, procs) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    env = {"TELEGRAM_BOT_TOKEN": BOT_TOKEN, "TELEGRAM_WEBHOOK_SECRET": SECRET, "TELEGRAM_API_BASE": bot_api.base_url,
           "SAMLENG_EVIDENCE_DIR": str(tmp_path / "evidence")}

    def start() -> str:
        port = free_port()
        procs.append(spawn_serve(settings.database_url, tmp_path, port, **env))
        url = f"http://127.0.0.1:{port}"
        wait_until_serving(procs[-1], url, tmp_path / f"serve-{port}.log")
        return url

    def replies(n: int) -> None:
        """Wait for the bot's n-th message; on failure say what it sent and what serve logged (a
        timeout on a loaded machine is otherwise a riddle)."""
        # Generous: on a loaded machine a reply whose write met a busy SQLite is retried by the 30 s
        # sweep, and the bot's first getMe backs off up to 60 s when the Bot API is slow to answer.
        arrived = wait_for(lambda: len(bot_api.of("sendMessage")) >= n, 240)
        logs = "\n".join(p.read_text(errors="replace")[-3000:] for p in sorted(tmp_path.glob("serve-*.log")))
        sent = bot_api.sent_texts()
        assert arrived, f"the bot sent {len(sent)} messages, not {n}: {sent!r}\nserve log:\n{logs}"
        assert len(sent) == n, f"one answer, several messages: {sent!r}"

    url = start()
    with httpx.Client(base_url=url, timeout=30) as client:
        user = TelegramUser(client=client, api=bot_api, user_id=7_311_000_001)
        for n, text in enumerate(["The pharmacy had no TB medicine for two weeks", "0", "0"], start=1):
            user.send(text)
            replies(n)
        assert wait_for(lambda: processed(engine) == 3, 60)

        def kill_at_the_exit_offer(call: Call) -> bool:
            if call.method != "sendMessage" or "delete this conversation" not in str(call.params.get("text")):
                return False
            bot_api.before_answer = None
            os.kill(procs[0].pid, signal.SIGKILL)
            procs[0].wait(10)
            return True  # Telegram never took it

        bot_api.before_answer = kill_at_the_exit_offer
        user.send("0")  # the last answer: the receipt, then the clean-exit offer
        assert wait_for(lambda: procs[0].poll() is not None, 120), "the bot never sent the exit offer"
    receipts = [t for t in bot_api.sent_texts() if "Your receipt code is" in t]
    assert len(receipts) == 1, "the receipt went out before the kill"
    assert processed(engine) == 3, "the last update was not finished"

    start()  # handles the stored update again at start-up
    assert wait_for(lambda: processed(engine) == 4, 120), "the stored update was not handled after the restart"
    receipts = [t for t in bot_api.sent_texts() if "Your receipt code is" in t]
    assert len(receipts) == 1, f"the person got the receipt {len(receipts)} times"
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(TelegramReply)).one() >= 4, "each reply remembered by update"
