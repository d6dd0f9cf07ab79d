"""The development outbox: a `dev` delivery driver that keeps messages for people to read.

In development (SAMLENG_ENV=development, or SAMLENG_DEV_OUTBOX=1 outside production), a message
whose channel is not configured — email without SAMLENG_SMTP_URL, SMS or WhatsApp without Twilio,
Telegram without a bot token — is not sent and not dead-lettered: this driver records it, as it
would have been sent (subject and text, sealed like the outbox's), with its destination masked, and
the outbox row counts as sent. Admins read them newest first at /dev/outbox (service/web), like a
mail catcher. A configured channel still delivers for real. Never in production: the setting is
refused there, and the page answers 404.
"""

from __future__ import annotations

import json

from sqlalchemy import Engine
from sqlmodel import Session, col, delete, select

from service.config import Settings
from service.kit.crypto import seal, unseal
from service.outbox.drivers import Sent
from service.outbox.models import DevOutboxMessage, OutboundMessage

KEEP = 500  # the newest messages kept; older ones are dropped as new ones arrive


def captures(route: str, settings: Settings) -> bool:
    """True when a message on `route` goes to the development outbox rather than out."""
    if not settings.dev_outbox_on:
        return False
    if route == "email":
        return not settings.smtp_url
    if route in ("sms", "whatsapp", "body_sms", "redact"):
        return settings.effective_sms_driver == "console"
    if route == "telegram":
        return not settings.telegram_bot_token
    return False  # webhooks go to the URL a body configured


def mask_address(route: str, address: str | None) -> str:
    """A reporter's number or chat id shows only its last two characters; a body's email address
    (a published institutional address) shows whole."""
    if not address:
        return "–"
    if route == "email":
        return address
    keep = address[-2:] if len(address) > 4 else ""
    return "•" * max(len(address) - len(keep), 4) + keep


class DevOutboxDriver:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def deliver(self, item) -> Sent:  # registry.Outgoing
        route = item.channel if item.kind == "message" else item.kind
        if route == "redact":
            return Sent(provider_id=None)  # nothing was kept at a provider
        if item.kind in ("email", "body_sms"):
            content = json.loads(item.payload)
            subject, text = content.get("subject"), content.get("text", "")
        else:
            subject, text = None, item.payload
        with Session(self.engine) as session:
            outbound = session.get(OutboundMessage, item.id)
            session.add(
                DevOutboxMessage(
                    outbound_id=item.id,
                    report_id=outbound.report_id if outbound else None,
                    route=route,
                    to_masked=mask_address(route, item.to)[:254],
                    content_sealed=seal(json.dumps({"subject": subject, "text": text}, ensure_ascii=False)),
                )
            )
            session.flush()
            newest = session.exec(
                select(DevOutboxMessage.id).order_by(col(DevOutboxMessage.id).desc()).offset(KEEP).limit(1)
            ).first()
            if newest is not None:
                session.exec(delete(DevOutboxMessage).where(col(DevOutboxMessage.id) <= newest))
            session.commit()
        return Sent(provider_id=None)


def newest(session: Session, *, limit: int = 200) -> list[dict]:
    """The caught messages, newest first, opened for reading."""
    rows = session.exec(select(DevOutboxMessage).order_by(col(DevOutboxMessage.id).desc()).limit(limit)).all()
    out = []
    for row in rows:
        try:
            content = json.loads(unseal(row.content_sealed))
        except ValueError:
            content = {"subject": None, "text": "(sealed with another vault key)"}
        out.append(
            {
                "id": row.id,
                "route": row.route,
                "to": row.to_masked,
                "report_id": row.report_id,
                "outbound_id": row.outbound_id,
                "at": row.created_at,
                "subject": content.get("subject"),
                "text": content.get("text") or "",
            }
        )
    return out
