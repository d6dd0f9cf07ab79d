"""Add work for the outside world to the outbox, in the caller's transaction."""

from __future__ import annotations

from sqlmodel import Session

from service.kit.clock import now
from service.kit.crypto import seal
from service.outbox.models import OutboundMessage


def enqueue_message(
    session: Session, *, channel: str, to: str, body: str, reporter_id: int | None = None, report_id: int | None = None
) -> OutboundMessage:
    """Queue a text to a reporter; the worker sends it. Destination and text are stored encrypted."""
    row = OutboundMessage(
        kind="message", channel=channel, reporter_id=reporter_id, report_id=report_id,
        to_sealed=seal(to), body_sealed=seal(body), next_attempt_at=now(),
    )
    session.add(row)
    return row


def enqueue_redaction(session: Session, *, channel: str, message_sid: str) -> OutboundMessage:
    """Queue the redaction of a message body kept at the provider (Twilio keeps them 30+ days)."""
    row = OutboundMessage(kind="redact", channel=channel, target_id=message_sid, next_attempt_at=now())
    session.add(row)
    return row
