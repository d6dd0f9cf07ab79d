"""Intake conversation state and the contact vault."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, LargeBinary
from sqlmodel import Field, SQLModel

from service.kit.models import created_at_field, ts_field


class Conversation(SQLModel, table=True):
    """Where a reporter is in the intake dialogue; one open conversation per reporter."""

    __tablename__ = "conversation"
    id: int | None = Field(default=None, primary_key=True)
    reporter_id: int = Field(foreign_key="reporter.id", unique=True, index=True)
    channel: str = Field(max_length=16)
    report_id: int | None = Field(default=None, foreign_key="report.id")
    step: str = Field(default="category", max_length=16)
    language: str = Field(default="en", max_length=8)
    reasks: int = Field(default=0)
    # The receipt code until the last reply shows it, encrypted; wiped afterwards.
    code_sealed: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    updated_at: datetime = created_at_field()
    expires_at: datetime | None = ts_field(index=True)


class ContactVault(SQLModel, table=True):
    """A consented contact address, encrypted, apart from the report; erased on STOP or closure."""

    __tablename__ = "contact_vault"
    id: int | None = Field(default=None, primary_key=True)
    reporter_id: int = Field(foreign_key="reporter.id", index=True)
    report_id: int | None = Field(default=None, foreign_key="report.id", index=True)
    channel: str = Field(max_length=16)
    address_sealed: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = created_at_field()
    erase_after: datetime | None = ts_field(index=True)
