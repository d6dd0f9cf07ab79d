"""The transactional outbox: every message to the outside world, and each attempt."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, LargeBinary, Text
from sqlmodel import Field, SQLModel

from service.kit.models import created_at_field, ts_field

KINDS = ("sms", "whatsapp", "redact", "message", "email", "webhook", "body_sms")
STATUSES = ("pending", "sent", "delivered", "failed", "dead", "cancelled")


class OutboundMessage(SQLModel, table=True):
    __tablename__ = "outbound_message"
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)
    channel: str = Field(max_length=16)
    reporter_id: int | None = Field(default=None, foreign_key="reporter.id", index=True)
    report_id: int | None = Field(default=None, foreign_key="report.id", index=True)
    # Destination and text, encrypted; the destination is wiped once delivered.
    to_sealed: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    body_sealed: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    # For "redact": the provider message id to redact.
    target_id: str | None = Field(default=None, max_length=64)
    status: str = Field(default="pending", max_length=16, index=True)
    attempts: int = Field(default=0)
    next_attempt_at: datetime | None = ts_field(index=True)
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    provider_id: str | None = Field(default=None, max_length=64, unique=True)
    provider_status: str | None = Field(default=None, max_length=24)
    created_at: datetime = created_at_field()
    sent_at: datetime | None = ts_field()
    delivered_at: datetime | None = ts_field()
    # -- escalation -----------------------------------------------------------------
    # One key per message, sent as Idempotency-Key / webhook-id / Message-ID, so a resend after a
    # crash between sending and recording is recognised by a receiver that honours it.
    dedupe_key: str | None = Field(default=None, max_length=120, unique=True)
    # A message to a grievance body: its destination is read from the body at send time.
    body_id: int | None = Field(default=None, foreign_key="grievance_body.id", index=True)
    # The worker that claimed the row, and until when (a crashed worker's claim lapses).
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_until: datetime | None = ts_field(index=True)
    # -- interrupted sends --------------------------------------------------------------------
    # Committed right before the call to the provider and cleared when its outcome is recorded:
    # a row claimed with this still set was being sent when its worker died (or the call ended
    # without an answer), so the provider may already have it. SMS is looked up at Twilio
    # before it is sent again (docs/operations.md, "Delivery guarantees").
    sending_at: datetime | None = ts_field()


class DeliveryAttempt(SQLModel, table=True):
    __tablename__ = "delivery_attempt"
    id: int | None = Field(default=None, primary_key=True)
    outbound_id: int = Field(foreign_key="outbound_message.id", index=True)
    ok: bool
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    at: datetime = created_at_field()


class WorkerLock(SQLModel, table=True):
    """A named lease: on SQLite only one worker delivers at a time."""

    __tablename__ = "worker_lock"
    name: str = Field(primary_key=True, max_length=32)
    holder: str = Field(max_length=64)
    expires_at: datetime = created_at_field()


class DevOutboxMessage(SQLModel, table=True):
    """Development only: a message the `dev` delivery driver caught instead of sending it (the
    development outbox, shown to admins at /dev/outbox). The destination is masked; subject and text
    are sealed like the outbox's. Never written in production."""

    __tablename__ = "dev_outbox_message"
    id: int | None = Field(default=None, primary_key=True)
    outbound_id: int | None = Field(default=None)  # the outbox row it stood in for (no key: purged apart)
    report_id: int | None = Field(default=None)
    route: str = Field(max_length=16)  # email, sms, whatsapp, telegram, body_sms
    to_masked: str = Field(max_length=254)
    content_sealed: bytes = Field(sa_column=Column(LargeBinary, nullable=False))  # JSON {subject, text}
    created_at: datetime = created_at_field()
