"""Delivery drivers by kind: one registry, so one more channel (e.g. telegram) is one `register` call.

A row's route is its channel for reporter messages (`kind == "message"`: sms, whatsapp,
telegram …) and its kind otherwise (redact, email, webhook, body_sms). Each driver gets an
`Outgoing` and returns `Sent`, raises `PermanentFailure` (dead letter at once) or any other
exception (retried with backoff). Every driver passes `dedupe_key` on to the receiver where
the protocol allows (Idempotency-Key / webhook-id / Message-ID).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import smtplib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

import httpx

from service.config import Settings
from service.kit.netguard import AddressRefused, GuardedTransport
from service.outbox import devoutbox
from service.outbox.drivers import NotTaken, PermanentFailure, Sent, SmsDriver, TelegramDriver, sms_driver


@dataclass(frozen=True)
class Outgoing:
    id: int
    kind: str
    channel: str
    dedupe_key: str
    to: str | None = field(default=None, repr=False)
    payload: str = field(default="", repr=False)  # text, or JSON for email/webhook
    target_id: str | None = None
    secret: str | None = field(default=None, repr=False)  # a body's webhook signing secret
    # Set when an earlier send was cut off (the row's "sending" mark): the provider may have it.
    interrupted_at: datetime | None = None
    provider_id: str | None = None  # already learnt (e.g. from a Twilio status callback)


class Driver(Protocol):
    def deliver(self, item: Outgoing) -> Sent: ...


Factory = Callable[[Settings], Driver]
_FACTORIES: dict[str, Factory] = {}


def register(route: str, factory: Factory) -> None:
    """Make `route` (a channel or a kind) deliverable by the driver `factory(settings)` builds."""
    _FACTORIES[route] = factory


def route_of(kind: str, channel: str) -> str:
    return channel if kind == "message" else kind


def reconcile(driver: Driver, item: Outgoing) -> tuple[bool, Sent | None]:
    """After an interrupted send: (asked, found). `found` is the provider's record of `item` if it
    has one; `asked` is False where the provider cannot be asked (Telegram, webhooks, email: the
    caller then sends again with the same key)."""
    finder = getattr(driver, "find_sent", None)
    if finder is None or (isinstance(driver, SmsAdapter) and not driver.can_look_up(item)):
        return False, None
    return True, finder(item)


def build(route: str, settings: Settings, *, engine: Any = None) -> Driver:
    """The driver for `route`. In development, a channel that is not configured is caught by the
    development outbox (service/outbox/devoutbox.py) when an engine to record it in is given."""
    if engine is not None and devoutbox.captures(route, settings):
        return devoutbox.DevOutboxDriver(engine)
    factory = _FACTORIES.get(route)
    if factory is None:
        raise PermanentFailure(f"no driver for {route!r}")
    return factory(settings)


# -- SMS and WhatsApp (the existing console / twilio drivers) ----------------------------------
class SmsAdapter:
    def __init__(self, driver: SmsDriver) -> None:
        self.driver = driver

    def deliver(self, item: Outgoing) -> Sent:
        if item.kind == "redact":
            self.driver.redact(channel=item.channel, message_sid=item.target_id or "")
            return Sent(provider_id=None)
        channel = "sms" if item.kind == "body_sms" else item.channel
        text = json.loads(item.payload)["text"] if item.kind == "body_sms" else item.payload
        return self.driver.send(channel=channel, to=item.to or "", body=text, tag=str(item.id))

    def can_look_up(self, item: Outgoing) -> bool:
        return bool(item.provider_id) or (hasattr(self.driver, "find_sent") and item.kind != "redact")

    def find_sent(self, item: Outgoing) -> Sent | None:
        """Ask the provider whether an interrupted send of `item` reached it (Twilio can be asked)."""
        if item.provider_id:  # a status callback already told us (its URL carries the outbox id)
            return Sent(provider_id=item.provider_id)
        finder = getattr(self.driver, "find_sent", None)
        if finder is None or item.kind == "redact" or item.interrupted_at is None:
            return None
        channel = "sms" if item.kind == "body_sms" else item.channel
        text = json.loads(item.payload)["text"] if item.kind == "body_sms" else item.payload
        return finder(channel=channel, to=item.to or "", body=text, since=item.interrupted_at)


def _sms(settings: Settings) -> Driver:
    return SmsAdapter(sms_driver(settings))


for _route in ("sms", "whatsapp", "redact", "body_sms"):
    register(_route, _sms)


# -- Telegram: messages after the live conversation, to a consented chat id ----------
def _telegram(settings: Settings) -> Driver:
    return SmsAdapter(TelegramDriver(settings))


register("telegram", _telegram)


# -- email (SMTP, stdlib) -----------------------------------------------------------------------
class EmailDriver:
    """SAMLENG_SMTP_URL: smtp://[user:pass@]host[:port] (STARTTLS when offered), smtps://… for TLS."""

    def __init__(self, settings: Settings) -> None:
        if not settings.smtp_url:
            raise PermanentFailure("SAMLENG_SMTP_URL is not set")
        self.url = urlsplit(settings.smtp_url)
        self.sender = settings.mail_from
        self.timeout = settings.outbox_timeout
        self.domain = self.sender.rpartition("@")[2] or "samleng.invalid"
        self._batching = False
        self._smtp: smtplib.SMTP | None = None  # the open session while batching
        self.sessions = 0  # SMTP sessions opened, for tests and the logs

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Send the messages delivered inside over one SMTP session, opened at the first and
        closed (QUIT) at the end; a session that fails is dropped and the next message opens a
        new one. Each message is still its own MAIL/RCPT/DATA, accepted or refused on its own."""
        self._batching = True
        try:
            yield
        finally:
            self._batching = False
            self._drop(polite=True)

    def _open(self) -> smtplib.SMTP:
        secure = self.url.scheme == "smtps"
        port = self.url.port or (465 if secure else 25)
        cls = smtplib.SMTP_SSL if secure else smtplib.SMTP
        smtp = cls(self.url.hostname or "localhost", port, timeout=self.timeout)
        self.sessions += 1
        try:
            if not secure:
                smtp.ehlo()
                if smtp.has_extn("starttls"):
                    smtp.starttls()
                    smtp.ehlo()
            if self.url.username:
                smtp.login(unquote(self.url.username), unquote(self.url.password or ""))
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _drop(self, *, polite: bool = False, smtp: smtplib.SMTP | None = None) -> None:
        """Close a session: QUIT when it ended well, just the socket after an error."""
        if smtp is None:
            smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            if polite:
                smtp.quit()
        except Exception:  # noqa: S110  the server already went away: nothing to say goodbye to
            pass
        finally:
            smtp.close()

    def deliver(self, item: Outgoing) -> Sent:
        content = json.loads(item.payload)
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, item.to or "", content["subject"]
        message["Date"] = formatdate(localtime=False)
        # The same Message-ID on a resend lets the receiving side drop the duplicate.
        message["Message-ID"] = f"<{item.dedupe_key}@{self.domain}>"
        message["Idempotency-Key"] = item.dedupe_key
        message.set_content(content["text"])
        smtp: smtplib.SMTP | None = None
        healthy = False
        try:
            smtp = self._smtp or self._open()
            if self._batching:
                self._smtp = smtp
            refused = smtp.send_message(message)
            healthy = True
        except smtplib.SMTPRecipientsRefused as exc:
            healthy = True  # smtplib reset the transaction: the session goes on
            raise PermanentFailure("recipient refused") from exc
        except smtplib.SMTPResponseException as exc:
            if 500 <= exc.smtp_code < 600:
                raise PermanentFailure(f"smtp {exc.smtp_code}") from None
            raise RuntimeError(f"smtp {exc.smtp_code}") from None
        finally:
            if not healthy and self._batching:
                self._drop()  # a failed session is not trusted with the next message
            elif not self._batching and smtp is not None:
                self._drop(polite=healthy, smtp=smtp)
        if refused:
            raise PermanentFailure("recipient refused")
        return Sent(provider_id=None)


register("email", EmailDriver)


# -- signed webhooks (Standard Webhooks) -------------------------------------------------------------
def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256(secret, "id.timestamp.body")>` with a `whsec_<base64>` secret."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


class WebhookDriver:
    def __init__(self, settings: Settings, client: httpx.Client | None = None) -> None:
        # Connections go only to the address just checked (no second DNS answer: service/kit/netguard.py).
        self.client = client or httpx.Client(
            timeout=settings.outbox_timeout,
            follow_redirects=False,
            transport=GuardedTransport(lambda: settings.webhook_allow_networks),
        )

    def deliver(self, item: Outgoing) -> Sent:
        if not item.to or not item.secret:
            raise PermanentFailure("body has no webhook URL or secret")
        content: dict[str, Any] = json.loads(item.payload)
        timestamp = int(time.time())
        body = json.dumps(
            {"type": content["type"], "timestamp": timestamp, "data": content["data"]},
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
        headers = {
            "content-type": "application/json",
            "webhook-id": item.dedupe_key,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(item.secret, item.dedupe_key, timestamp, body),
            "idempotency-key": item.dedupe_key,
            "user-agent": "Samleng-Webhooks/1",
        }
        try:
            response = self.client.post(item.to, content=body, headers=headers)
        except AddressRefused as exc:
            raise PermanentFailure(f"webhook address refused: {exc}") from None
        except httpx.HTTPError as exc:
            raise RuntimeError(f"webhook {type(exc).__name__}") from None
        if 200 <= response.status_code < 300 or response.status_code == 409:  # 409: already have it
            return Sent(provider_id=None)
        if response.status_code in (408, 425, 429) or response.status_code >= 500:
            raise NotTaken(f"webhook {response.status_code}")
        raise PermanentFailure(f"webhook {response.status_code}")


register("webhook", WebhookDriver)
