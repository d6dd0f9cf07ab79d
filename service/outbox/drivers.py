"""Outbound drivers, looked up by name: `console` records only, `twilio` talks to Twilio."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode
from typing import Protocol

from twilio.base.exceptions import TwilioRestException

from service.config import Settings
from service.kit.segments import count

log = logging.getLogger(__name__)


class PermanentFailure(Exception):
    """The provider refused for good (bad number, opted out): do not retry."""


class NotTaken(RuntimeError):
    """The provider answered and did not take the message (5xx, 429): retry, nothing to look up.
    Any other exception (a timeout, a dropped connection) leaves it unknown whether it was taken."""


@dataclass(frozen=True)
class Sent:
    provider_id: str | None


class SmsDriver(Protocol):
    def send(self, *, channel: str, to: str, body: str, tag: str | None = None) -> Sent: ...

    def redact(self, *, channel: str, message_sid: str) -> None: ...


class ConsoleDriver:
    """Development driver: nothing leaves the machine; the outbox row is the record."""

    def send(self, *, channel: str, to: str, body: str, tag: str | None = None) -> Sent:
        seg = count(body)
        log.info("console driver: %s message not sent (%d %s segments)", channel, seg.segments, seg.encoding)
        return Sent(provider_id=None)

    def redact(self, *, channel: str, message_sid: str) -> None:
        return None


class TwilioDriver:
    def __init__(self, settings: Settings, http_client: object | None = None) -> None:
        # deferred: the Twilio REST client (and the HTTP stack under it) costs a tenth of a second
        # to import, only when Twilio is the configured SMS driver
        from twilio.http.http_client import TwilioHttpClient
        from twilio.rest import Client

        if not (settings.twilio_account_sid and settings.twilio_auth_token):
            raise RuntimeError("twilio driver needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN")
        self.settings = settings
        if http_client is None:
            # The library's default client waits forever (timeout=None): a Twilio that never
            # answers would hold the worker. Connect and each read give up after the timeout.
            http_client = TwilioHttpClient(timeout=settings.outbox_timeout)
        self.client = Client(settings.twilio_account_sid, settings.twilio_auth_token, http_client=http_client)
        if settings.twilio_api_base:
            self.client.api.base_url = settings.twilio_api_base.rstrip("/")

    def send(self, *, channel: str, to: str, body: str, tag: str | None = None) -> Sent:
        """Create the message. `tag` (the outbox row's id: a number, nothing about the person)
        rides in the StatusCallback URL, so Twilio's status callbacks name the outbox row even
        when the worker died before it learnt the message's SID."""
        sender = self.settings.twilio_from
        kwargs: dict[str, str] = {"body": body}
        if sender.startswith("MG"):
            kwargs["messaging_service_sid"] = sender
        else:
            kwargs["from_"] = f"whatsapp:{sender}" if channel == "whatsapp" else sender
        kwargs["to"] = f"whatsapp:{to}" if channel == "whatsapp" else to
        status_url = self.settings.public_url.rstrip("/") + "/webhooks/twilio/status"
        if tag:
            status_url += "?" + urlencode({"o": tag})
        try:
            message = self.client.messages.create(status_callback=status_url, **kwargs)
        except TwilioRestException as exc:
            if exc.status is not None and 400 <= exc.status < 500 and exc.status != 429:
                raise PermanentFailure(f"twilio {exc.status} code {exc.code}") from None
            if exc.status is not None:
                raise NotTaken(f"twilio {exc.status} code {exc.code}") from None
            raise RuntimeError(f"twilio {exc.status} code {exc.code}") from None
        return Sent(provider_id=message.sid)

    # How far back Twilio's clock may stand from ours when comparing a message's creation time
    # with the "sending" mark; and how many of the person's newest messages are looked at.
    CLOCK_SKEW = timedelta(minutes=2)
    LOOKUP_LIMIT = 50

    def find_sent(self, *, channel: str, to: str, body: str, since: datetime) -> Sent | None:
        """After an interrupted send: the message Twilio already has for it, if any.

        Twilio takes no idempotency key and its Messages list does not return the StatusCallback
        URL, so the look-up is by what the list does return: the person's newest messages
        (`To=`, newest first), created through the API (`outbound-api`, never a TwiML reply)
        since the row's "sending" mark, with this text, or with an empty text (Twilio bodies
        are redacted once final). The address and text are compared in memory and never kept.
        No date filter: `DateSent` is empty while Twilio still queues the message.
        """
        target = f"whatsapp:{to}" if channel == "whatsapp" else to
        try:
            messages = self.client.messages.list(to=target, limit=self.LOOKUP_LIMIT, page_size=self.LOOKUP_LIMIT)
        except TwilioRestException as exc:
            raise RuntimeError(f"twilio lookup {exc.status} code {exc.code}") from None
        for message in messages:
            created = message.date_created
            if created is None or created < since - self.CLOCK_SKEW:
                continue
            if message.direction != "outbound-api" or (message.body or "") not in (body, ""):
                continue
            return Sent(provider_id=message.sid)
        return None

    def redact(self, *, channel: str, message_sid: str) -> None:
        try:
            self.client.messages(message_sid).update(body="")
        except TwilioRestException as exc:
            if exc.status == 404:
                return  # already gone at Twilio
            if exc.status is not None and 400 <= exc.status < 500 and exc.status != 429:
                raise PermanentFailure(f"twilio {exc.status} code {exc.code}") from None
            raise RuntimeError(f"twilio {exc.status} code {exc.code}") from None


def sms_driver(settings: Settings) -> SmsDriver:
    name = settings.effective_sms_driver
    if name == "twilio":
        return TwilioDriver(settings)
    return ConsoleDriver()


# --- Telegram ---
class TelegramDriver:
    """Sends a text to a consented Telegram chat id through the Bot API (python-telegram-bot).

    Used for messages after the live conversation (case updates); the address is the chat
    id from the vault. Telegram message ids are per chat, so no provider id is kept.
    """

    def __init__(self, settings: Settings) -> None:
        if not settings.telegram_bot_token:
            raise RuntimeError("telegram driver needs TELEGRAM_BOT_TOKEN")
        self.settings = settings

    def send(self, *, channel: str, to: str, body: str, tag: str | None = None) -> Sent:
        # deferred: python-telegram-bot costs a fifth of a second to import; a worker sends through
        # it only when a Telegram reporter is written to
        from telegram import Bot
        from telegram.error import BadRequest, Forbidden, InvalidToken, RetryAfter
        from telegram.request import HTTPXRequest

        base = (self.settings.telegram_api_base or "https://api.telegram.org").rstrip("/")
        limit = self.settings.outbox_timeout
        request = HTTPXRequest(
            connection_pool_size=1, connect_timeout=limit, read_timeout=limit, write_timeout=limit, pool_timeout=limit
        )

        async def deliver() -> None:
            async with Bot(
                self.settings.telegram_bot_token,
                base_url=f"{base}/bot",
                base_file_url=f"{base}/file/bot",
                request=request,
            ) as bot:
                await bot.send_message(int(to), body)

        try:
            asyncio.run(deliver())
        except (Forbidden, BadRequest, InvalidToken) as exc:  # blocked the bot, chat gone, bad token
            raise PermanentFailure(f"telegram {type(exc).__name__}") from None
        except RetryAfter:  # flood control: Telegram answered and did not send
            raise NotTaken("telegram RetryAfter") from None
        except Exception as exc:  # network, 5xx, flood control: retry with backoff
            raise RuntimeError(f"telegram {type(exc).__name__}") from None
        log.info("telegram driver: message sent (%d characters)", len(body))
        return Sent(provider_id=None)

    def redact(self, *, channel: str, message_sid: str) -> None:
        return None  # nothing is kept at Telegram that the bot could blank
