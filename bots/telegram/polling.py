"""`samleng telegram set-webhook` and `samleng telegram poll` (for a laptop without a public URL).

Poll mode asks the Bot API for updates (getUpdates) instead of receiving the webhook,
and feeds them through the same inbox: each update is stored (encrypted) before the
next getUpdates acknowledges it to Telegram, then processed by the same `TelegramBot`.
"""

from __future__ import annotations

import asyncio
import json
import logging

from telegram import Bot, BotCommand

from bots.telegram.bot import ALLOWED_UPDATES, CHANNEL, TelegramBot, person_of, silence_library_logs, update_key
from bots.telegram.routes import WEBHOOK_PATH
from service.config import ConfigError, Settings
from service.db import build_engine
from service.inbox import pending
from service.inbox.writer import Writer

log = logging.getLogger(__name__)
COMMANDS = (
    ("report", "Make a report"),
    ("status", "Check a report: /status code"),
    ("delete", "Withdraw a report: /delete code"),
    ("language", "ខ្មែរ / English / Português"),
    ("cancel", "Stop the questions"),
    ("help", "How it works"),
)
# The same menu for Telegram apps set to Portuguese (the command names stay the same).
COMMANDS_PT = (
    ("report", "Fazer uma queixa"),
    ("status", "Ver uma queixa: /status código"),
    ("delete", "Retirar uma queixa: /delete código"),
    ("language", "ខ្មែរ / English / Português"),
    ("cancel", "Parar as perguntas"),
    ("help", "Como funciona"),
)


def _bot(settings: Settings) -> Bot:
    if not settings.telegram_bot_token:
        raise ConfigError("TELEGRAM_BOT_TOKEN is not set")
    base = (settings.telegram_api_base or "https://api.telegram.org").rstrip("/")
    silence_library_logs()
    return Bot(settings.telegram_bot_token, base_url=f"{base}/bot", base_file_url=f"{base}/file/bot")


async def set_webhook(settings: Settings, *, url: str | None = None, drop_pending: bool = False) -> str:
    """Register the webhook with the secret token and the update kinds the bot handles."""
    target = url or settings.public_url.rstrip("/") + WEBHOOK_PATH
    if settings.is_production and not target.startswith("https://"):
        raise ConfigError("the webhook URL must be https:// in production")
    async with _bot(settings) as bot:
        await bot.set_webhook(
            target,
            secret_token=settings.telegram_webhook_secret or None,
            allowed_updates=list(ALLOWED_UPDATES),
            drop_pending_updates=drop_pending,
        )
        await bot.set_my_commands([BotCommand(name, text) for name, text in COMMANDS])
        await bot.set_my_commands([BotCommand(name, text) for name, text in COMMANDS_PT], language_code="pt")
    return target


async def poll(settings: Settings, *, stop: asyncio.Event | None = None, timeout: int = 25) -> None:
    """Run the bot by long polling until `stop` is set (or forever)."""
    stop = stop or asyncio.Event()
    engine = build_engine(settings)
    writer = Writer(engine)
    writer.start()
    bot = TelegramBot(settings, writer)
    await bot.start()
    offset = 0
    try:
        async with _bot(settings) as api:
            await api.delete_webhook()  # getUpdates is refused while a webhook is set
            log.info("telegram: polling for updates")
            while not stop.is_set():
                try:
                    updates = await api.get_updates(
                        offset=offset, timeout=timeout, allowed_updates=list(ALLOWED_UPDATES)
                    )
                except Exception as exc:  # network trouble: wait and ask again
                    log.warning("telegram: getUpdates failed: %s", type(exc).__name__)
                    await asyncio.sleep(3)
                    continue
                for update in updates:
                    data = update.to_dict()
                    body = json.dumps(data).encode()
                    key = update_key(data)
                    if key is not None:
                        row_id, new = await writer.run(  # the unit runs before the await returns
                            lambda s: pending.store_pending(
                                s, channel=CHANNEL, external_id=key, payload=body, person=person_of(data)
                            )
                        )
                        if new:
                            bot.enqueue(row_id, body)
                    offset = update.update_id + 1  # stored: the next call acknowledges it
    finally:
        await bot.stop()
        writer.stop()
        engine.dispose()
