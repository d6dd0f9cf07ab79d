"""The Telegram bot's own state, keyed by reporter (pseudonym), never by Telegram ids.

The intake dialogue's state is `service.intake.models.Conversation`; this adds only what
the chat needs: the clean-exit offer and the ids of the messages it would delete.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from service.kit.models import created_at_field


class TelegramChat(SQLModel, table=True):
    """A pending clean-exit offer: which report just finished, and its code (encrypted) for the reminder."""

    __tablename__ = "telegram_chat"
    id: int | None = Field(default=None, primary_key=True)
    reporter_id: int = Field(foreign_key="reporter.id", unique=True, index=True)
    exit_report_id: int | None = Field(default=None, foreign_key="report.id")
    exit_code_sealed: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    updated_at: datetime = created_at_field()


class TelegramTrace(SQLModel, table=True):
    """One message id (the bot's or the person's) in a private chat, kept only so the clean exit can
    delete it. Message ids are per-chat counters, not identifiers of a person; rows go when the
    messages are deleted, or after Telegram's 48-hour deletion window."""

    __tablename__ = "telegram_trace"
    id: int | None = Field(default=None, primary_key=True)
    reporter_id: int = Field(foreign_key="reporter.id", index=True)
    message_id: int
    created_at: datetime = created_at_field()


class TelegramReply(SQLModel, table=True):
    """A reply the bot sent while handling one stored update: the update key (update id and date,
    not a person), the reply's place among that update's replies, and the message id Telegram gave
    it. When the update is handled again (the server died before finishing it), a reply found here
    is not sent again. Rows go after Telegram's 48-hour deletion window, like the traces."""

    __tablename__ = "telegram_reply"
    __table_args__ = (UniqueConstraint("update_key", "seq"),)
    id: int | None = Field(default=None, primary_key=True)
    update_key: str = Field(max_length=64, index=True)
    seq: int
    message_id: int
    created_at: datetime = created_at_field()
