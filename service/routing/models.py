"""Routing rules: (category, place, urgency, population) → handling organisation + escalation ladder.

Rules are versioned: an edit inserts a new row with the next version of the same
`rule_key` and marks the previous one not current, so history is kept and a case
remembers the exact version that routed it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from service.kit.models import created_at_field


class RoutingRule(SQLModel, table=True):
    __tablename__ = "routing_rule"
    __table_args__ = (UniqueConstraint("rule_key", "version", name="uq_routing_rule_version"),)
    id: int | None = Field(default=None, primary_key=True)
    rule_key: str = Field(max_length=64, index=True)
    version: int = Field(default=1)
    current: bool = Field(default=True, index=True)
    active: bool = Field(default=True)
    name: str = Field(max_length=200)
    priority: int = Field(default=0)
    # Conditions; an empty list (or no place) matches anything.
    categories: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    urgencies: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    populations: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # A place code: matches that place and every place under it.
    place_code: str | None = Field(default=None, max_length=80)
    org_slug: str | None = Field(default=None, max_length=64)
    # Rungs, bottom first: {"body": slug} or {"level": level} (resolved by the report's place).
    ladder: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    auto_escalate: bool = Field(default=False)
    created_by: str = Field(default="system", max_length=80)
    created_at: datetime = created_at_field()


class ReportRoute(SQLModel, table=True):
    """Which rule version routed a case (kept apart from the report so routing can change alone),
    and the facts it was routed on: when the case's facts differ from these, the worker routes
    it again, until a person has acted on it (service/routing/service.py `reroute_changed`)."""

    __tablename__ = "report_route"
    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="report.id", unique=True, index=True)
    rule_id: int | None = Field(default=None, foreign_key="routing_rule.id")
    actor: str = Field(default="system", max_length=80)
    routed_at: datetime = created_at_field()
    category: str | None = Field(default=None, max_length=40)
    place_id: int | None = Field(default=None)
    urgency: str | None = Field(default=None, max_length=8)
    population: str | None = Field(default=None, max_length=32)
