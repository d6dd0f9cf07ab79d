"""Fixtures for the Telegram tests: the fake Bot API, the app behind real HTTP, a person in a chat."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.database import configure
from tests.support.telegram_fake import BOT_TOKEN, SECRET, FakeBotApi, TelegramUser


@pytest.fixture
def bot_api() -> Iterator[FakeBotApi]:
    fake = FakeBotApi()
    fake.start()
    yield fake
    fake.stop()


def telegram_env(bot_api: FakeBotApi, tmp_path) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {
        "TELEGRAM_BOT_TOKEN": BOT_TOKEN, "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "TELEGRAM_API_BASE": bot_api.base_url, "SAMLENG_EVIDENCE_DIR": str(tmp_path / "evidence"),
    }


@pytest.fixture
def telegram_server(settings, monkeypatch, bot_api, places, tmp_path, request):  # type: ignore[no-untyped-def]
    """The whole app behind real HTTP, with the bot talking to the fake Bot API."""
    env = telegram_env(bot_api, tmp_path)
    configure(monkeypatch, **env)
    settings.telegram_bot_token = env["TELEGRAM_BOT_TOKEN"]
    settings.telegram_webhook_secret = env["TELEGRAM_WEBHOOK_SECRET"]
    settings.telegram_api_base = env["TELEGRAM_API_BASE"]
    settings.evidence_dir = env["SAMLENG_EVIDENCE_DIR"]
    return request.getfixturevalue("live_server")


class SettlingUser(TelegramUser):
    """A chat user that waits, after each update, until the bot has finished with it."""

    server: Any = None

    def settle(self, timeout: float = 20.0) -> None:
        bot = self.server.app.state.telegram
        deadline = time.monotonic() + timeout
        while not (bot.ready and not bot._inflight and (bot._queue is None or bot._queue.empty())):
            if time.monotonic() > deadline:
                raise AssertionError("the bot did not finish processing in time")
            time.sleep(0.02)

    def post(self, update: dict, *, secret: str | None | bool = True) -> httpx.Response:
        response = super().post(update, secret=secret)
        if response.status_code == 200 and self.server is not None:
            self.settle()
        return response


def make_user(server, bot_api, **kw: Any) -> SettlingUser:  # type: ignore[no-untyped-def]
    user = SettlingUser(client=server.client, api=bot_api, **kw)
    user.server = server
    return user


@pytest.fixture
def tg(telegram_server, bot_api) -> SettlingUser:  # type: ignore[no-untyped-def]
    return make_user(telegram_server, bot_api)
