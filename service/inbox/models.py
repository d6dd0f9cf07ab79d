"""Inbound messages: the idempotent inbox, unique by (channel, external id)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from service.kit.models import created_at_field, ts_field


class InboundMessage(SQLModel, table=True):
    __tablename__ = "inbound_message"
    __table_args__ = (UniqueConstraint("channel", "external_id", name="uq_inbound_channel_external"),)
    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    external_id: str = Field(max_length=64)
    reporter_id: int | None = Field(default=None, foreign_key="reporter.id", index=True)
    report_id: int | None = Field(default=None, foreign_key="report.id", index=True)
    # What the message did: report, answer, keyword, ...
    kind: str = Field(default="report", max_length=24)
    body_masked: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    # The answer we gave, encrypted (it may hold a receipt code); replayed on redelivery.
    reply_sealed: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    spooled: bool = Field(default=False)
    received_at: datetime = created_at_field()
    redacted_at: datetime | None = ts_field()


class PendingUpdate(SQLModel, table=True):
    """A platform update stored (encrypted) before it is acknowledged, and processed from here.

    Telegram: the webhook answers 200 only after this row has committed; the bot works
    through rows without `processed_at` (again after a restart), then drops the payload.
    The row itself stays a while as the update's idempotency key.
    """

    __tablename__ = "pending_update"
    __table_args__ = (UniqueConstraint("channel", "external_id", name="uq_pending_channel_external"),)
    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    external_id: str = Field(max_length=64)
    # The sender's pseudonym (the same keyed hash as `reporter.pseudonym`): one person's updates are
    # handled in update order, across processes, under a lock on it. None: no sender (or stored before).
    person: str | None = Field(default=None, max_length=64, index=True)
    # The raw update, encrypted with the vault key; wiped once processed.
    payload_sealed: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    attempts: int = Field(default=0)
    received_at: datetime = created_at_field()
    processed_at: datetime | None = ts_field(index=True)
