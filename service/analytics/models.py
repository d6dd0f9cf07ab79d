"""Analytics tables: supervisor-approved quotes, and the indexes the dashboard's queries need."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Date, Index, Text
from sqlmodel import Field, SQLModel

from service.kit.models import created_at_field, table_of, ts_field
from service.reports.models import Report

# The dashboard groups and filters reports by creation time (with a dimension): these keep it off full scans.
Index("ix_report_created_at", table_of(Report).c.created_at)
Index("ix_report_place_created", table_of(Report).c.place_id, table_of(Report).c.created_at)


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


# Incremental refresh finds changed reports by updated_at.
Index("ix_report_updated_at", table_of(Report).c.updated_at)


class ReportRollup(SQLModel, table=True):
    """Pre-aggregated counts: one row per (creation day, province, dimension, value). See rollup.py."""

    __tablename__ = "report_rollup"
    __table_args__ = (Index("ix_report_rollup_dim_day", "dim", "day"), Index("ix_report_rollup_day", "day"))
    id: int | None = Field(default=None, primary_key=True)
    day: date = Field(sa_column=Column(Date, nullable=False))
    province_id: int = Field(default=0)  # 0: no province (unplaced, or a place outside any province)
    dim: str = Field(max_length=24)
    value: str = Field(max_length=40)
    n: int = Field(default=0)
    hours_sum: float = Field(default=0.0)  # for the timing dimensions: total hours, for averages


class AnalyticsState(SQLModel, table=True):
    """Small key/value state of the analytics package (the rollup's refresh watermark)."""

    __tablename__ = "analytics_state"
    key: str = Field(primary_key=True, max_length=40)
    at: datetime | None = ts_field()
