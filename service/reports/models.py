"""Reports, their reporters (pseudonyms only) and their timeline."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, LargeBinary, Text
from sqlmodel import Field, SQLModel

from service.kit.models import created_at_field, ts_field

CATEGORIES = ("service_quality", "stigma_discrimination", "financial_hardship", "human_rights_violation", "other")
URGENCIES = ("urgent", "high", "normal")
CHANNELS = ("sms", "whatsapp", "telegram", "web")


class Reporter(SQLModel, table=True):
    """A person, known only by a keyed pseudonym of their channel address."""

    __tablename__ = "reporter"
    id: int | None = Field(default=None, primary_key=True)
    pseudonym: str = Field(max_length=64, unique=True, index=True)
    channel: str = Field(max_length=16)
    language: str | None = Field(default=None, max_length=8)
    opted_out_at: datetime | None = ts_field()
    created_at: datetime = created_at_field()


class Report(SQLModel, table=True):
    __tablename__ = "report"
    id: int | None = Field(default=None, primary_key=True)
    # Keyed hash of the receipt code; the code itself is never stored in clear.
    receipt_hash: str = Field(max_length=64, unique=True, index=True)
    channel: str = Field(max_length=16, index=True)
    reporter_id: int | None = Field(default=None, foreign_key="reporter.id", index=True)
    # The narrative as written, encrypted with the vault key; handlers see only the masked copy.
    narrative_sealed: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    narrative_masked: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    language: str = Field(default="en", max_length=8)
    category: str | None = Field(default=None, max_length=40, index=True)
    subcategory: str | None = Field(default=None, max_length=80)
    category_source: str | None = Field(default=None, max_length=16)  # reporter, triage, handler
    urgency: str = Field(default="normal", max_length=8, index=True)
    place_id: int | None = Field(default=None, foreign_key="place.id", index=True)
    place_text_masked: str | None = Field(default=None, max_length=300)
    consent_followup: bool | None = Field(default=None)
    assisted: bool = Field(default=False)
    status: str = Field(default="received", max_length=16, index=True)
    deferred_until: datetime | None = ts_field()
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()
    withdrawn_at: datetime | None = ts_field()


class ReportEvent(SQLModel, table=True):
    """One entry of a report's timeline."""

    __tablename__ = "report_event"
    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="report.id", index=True)
    kind: str = Field(max_length=32)
    actor: str = Field(default="system", max_length=80)
    detail: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = created_at_field()
