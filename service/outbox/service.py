"""Add work for the outside world to the outbox, in the caller's transaction."""

from __future__ import annotations

import json

from sqlmodel import Session, col, select

from service.kit.clock import now
from service.kit.crypto import seal
from service.kit.errors import InvalidInput, NotFound
from service.outbox.models import OutboundMessage


def enqueue_message(
    session: Session, *, channel: str, to: str, body: str, reporter_id: int | None = None, report_id: int | None = None
) -> OutboundMessage:
    """Queue a text to a reporter; the worker sends it. Destination and text are stored encrypted."""
    row = OutboundMessage(
        kind="message",
        channel=channel,
        reporter_id=reporter_id,
        report_id=report_id,
        to_sealed=seal(to),
        body_sealed=seal(body),
        next_attempt_at=now(),
    )
    session.add(row)
    return row


def enqueue_redaction(session: Session, *, channel: str, message_sid: str) -> OutboundMessage:
    """Queue the redaction of a message body kept at the provider (Twilio keeps them 30+ days)."""
    row = OutboundMessage(kind="redact", channel=channel, target_id=message_sid, next_attempt_at=now())
    session.add(row)
    return row


# -- escalation --------------------------------------------------------------------------
def enqueue_to_body(
    session: Session,
    *,
    body_id: int,
    kind: str,
    dedupe_key: str,
    payload: dict,
    report_id: int | None = None,
) -> OutboundMessage | None:
    """Queue one message to a grievance body (kind email, webhook or body_sms).

    The destination is read from the body when sending, so a corrected address applies to
    messages still queued. Returns None when a message with this key is already queued.
    """
    if session.exec(select(OutboundMessage.id).where(OutboundMessage.dedupe_key == dedupe_key)).first() is not None:
        return None
    row = OutboundMessage(
        kind=kind,
        channel=kind,
        body_id=body_id,
        report_id=report_id,
        dedupe_key=dedupe_key,
        body_sealed=seal(json.dumps(payload, ensure_ascii=False)),
        next_attempt_at=now(),
    )
    session.add(row)
    return row


def retry_now(session: Session, outbound_id: int) -> OutboundMessage:
    """Put a dead (or failed) message back in the queue at once, with a fresh attempt budget."""
    row = session.get(OutboundMessage, outbound_id)
    if row is None:
        raise NotFound(f"no outbound message {outbound_id}")
    if row.status not in ("dead", "failed"):
        raise InvalidInput(f"message {outbound_id} is {row.status}, not dead")
    if row.kind == "message" and row.to_sealed is None:
        raise InvalidInput("the reporter's address was erased with the dead letter; it cannot be retried")
    row.status, row.attempts, row.next_attempt_at, row.claimed_until, row.claimed_by = "pending", 0, now(), None, None
    session.add(row)
    return row


def dead_letters(session: Session, *, limit: int = 100) -> list[OutboundMessage]:
    """Messages that gave up, newest first (for the web app's dead-letter list)."""
    return list(
        session.exec(
            select(OutboundMessage)
            .where(OutboundMessage.status == "dead")
            .order_by(col(OutboundMessage.id).desc())
            .limit(limit)
        ).all()
    )


def cancel_for_report(session: Session, report_id: int) -> int:
    """A withdrawn report: every message about it that has not gone out (pending, failed, dead) is
    cancelled, and every message about it loses its text and destination, sent ones included.
    Returns how many were cancelled. (A message a worker is sending at this very moment may still
    leave; nothing is retried after.)"""
    cancelled = 0
    for row in session.exec(select(OutboundMessage).where(col(OutboundMessage.report_id) == report_id)).all():
        if row.status in ("pending", "failed", "dead"):
            row.status, row.next_attempt_at, row.claimed_by, row.claimed_until = "cancelled", None, None, None
            cancelled += 1
        row.body_sealed = row.to_sealed = None
        session.add(row)
    return cancelled
