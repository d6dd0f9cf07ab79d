"""Analytics tables: supervisor-approved quotes, and the indexes the dashboard's queries need."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from service.kit.models import created_at_field, ts_field
from service.reports.models import Report

# The dashboard groups and filters reports by creation time (with a dimension): these keep it off full scans.
Index("ix_report_created_at", Report.__table__.c.created_at)  # type: ignore[attr-defined]
Index("ix_report_place_created", Report.__table__.c.place_id, Report.__table__.c.created_at)  # type: ignore[attr-defined]


class ApprovedQuote(SQLModel, table=True):
    """An excerpt of a report's MASKED narrative that a supervisor approved for publication."""

    __tablename__ = "approved_quote"
    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="report.id", index=True)
    excerpt_masked: str = Field(sa_column=Column(Text, nullable=False))
    language: str = Field(default="en", max_length=8)
    approved_by: str = Field(max_length=120)
    approved_at: datetime = created_at_field()
    revoked_at: datetime | None = ts_field()
