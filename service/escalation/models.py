"""Escalations: one row per body a case was sent to, with its deadline and the body's answer."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import JSON, CheckConstraint, Column, Text, UniqueConstraint, event, inspect, update
from sqlmodel import Field, SQLModel

from service.kit.clock import now
from service.kit.models import created_at_field, table_of, ts_field
from service.reports.models import Report

# open → acknowledged → responded | resolved | not_ours; expired when the deadline passed unanswered.
STATUSES = ("open", "acknowledged", "responded", "resolved", "not_ours", "expired", "superseded", "cancelled")
WAITING = ("open", "acknowledged")  # the deadline clock runs
ACTIONS = ("acknowledge", "action_taken", "resolved", "not_ours")


class Escalation(SQLModel, table=True):
    __tablename__ = "escalation"
    # An escalation is about one case or one dossier (a pattern of cases escalated as one), never both.
    __table_args__ = (
        CheckConstraint("(report_id IS NULL) <> (dossier_id IS NULL)", name="ck_escalation_case_or_dossier"),
    )
    id: int | None = Field(default=None, primary_key=True)
    report_id: int | None = Field(default=None, foreign_key="report.id", index=True)
    dossier_id: int | None = Field(default=None, foreign_key="dossier.id", index=True)
    body_id: int = Field(foreign_key="grievance_body.id", index=True)
    rule_id: int | None = Field(default=None, foreign_key="routing_rule.id")
    rung: int = Field(default=0)
    # The same escalation submitted twice carries the same key: one row, one message.
    idempotency_key: str = Field(max_length=120, unique=True)
    status: str = Field(default="open", max_length=16, index=True)
    actor: str = Field(default="system", max_length=80)
    created_at: datetime = created_at_field()
    due_at: datetime | None = ts_field(index=True)
    remind_at: datetime | None = ts_field(index=True)
    reminded_at: datetime | None = ts_field()
    acknowledged_at: datetime | None = ts_field()
    responded_at: datetime | None = ts_field()
    closed_at: datetime | None = ts_field()
    # "calendar" or "working": how this deadline counts (the body's setting when it was sent).
    counting: str = Field(default="calendar", max_length=16)
    # The clock is paused while the case waits on the reporter's answer (service/escalation/clocks.py):
    # since when, and until when at most (then it runs again, answer or not).
    paused_at: datetime | None = ts_field()
    paused_until: datetime | None = ts_field(index=True)
    # The body's last answer, masked like every narrative handlers see.
    response_masked: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # Part of every response link; changing it revokes the links already sent.
    link_nonce: str = Field(max_length=32)
    # A dossier's escalation: its suppressed contents as sent to the body, in the body's language (computed
    # by service/flows/dossier.py). The email, the webhook and the response page show this snapshot: the
    # record of exactly what the body was told.
    dossier_contents: dict | None = Field(default=None, sa_column=Column(JSON(none_as_null=True), nullable=True))


class LatestEscalation(NamedTuple):
    """What a case's page and its API show of its latest escalation (`service.latest_of`): read-only."""

    id: int
    report_id: int | None
    body_id: int
    rule_id: int | None
    rung: int
    status: str
    created_at: datetime
    due_at: datetime | None
    counting: str
    paused_at: datetime | None
    paused_until: datetime | None


# A body's answer, an expiry or a new rung changes the case's figures (body metrics in the analytics
# rollup, which follows report.updated_at): bump the report in the same flush.
def _touch_report(connection, target: Escalation) -> None:
    if target.report_id is None:  # a dossier's escalation: its linked cases keep their own figures
        return
    connection.execute(
        update(table_of(Report)).where(table_of(Report).c.id == target.report_id).values(updated_at=now())
    )


@event.listens_for(Escalation, "after_insert")
def _escalation_added(mapper, connection, target: Escalation) -> None:
    _touch_report(connection, target)


@event.listens_for(Escalation, "before_update")
def _escalation_changed(mapper, connection, target: Escalation) -> None:
    state = inspect(target)
    if any(attr.history.has_changes() for attr in state.attrs):
        _touch_report(connection, target)


# -- the dossier: a pattern of cases escalated as one (docs/escalation.md, "Collective escalation") ------
DOSSIER_SOURCES = ("cluster", "filter", "cases")
DOSSIER_STATUSES = ("draft", "escalated", "answered", "closed")


class Dossier(SQLModel, table=True):
    __tablename__ = "dossier"
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    title: str = Field(max_length=200)
    # Where the cases came from: a cluster (source_ref = its id), a saved filter (its query string), a list.
    source: str = Field(default="cases", max_length=16)
    source_ref: str = Field(default="", max_length=600)
    status: str = Field(default="draft", max_length=16, index=True)
    created_by: str = Field(max_length=120)
    created_at: datetime = created_at_field()
    # Closed by a supervisor: when, by whom, and why (shown on its page and on each linked case's timeline).
    closed_at: datetime | None = ts_field()
    closed_by: str | None = Field(default=None, max_length=120)
    closed_reason: str | None = Field(default=None, max_length=300)


class DossierCase(SQLModel, table=True):
    __tablename__ = "dossier_case"
    __table_args__ = (UniqueConstraint("dossier_id", "report_id", name="uq_dossier_case"),)
    id: int | None = Field(default=None, primary_key=True)
    dossier_id: int = Field(foreign_key="dossier.id", index=True)
    report_id: int = Field(foreign_key="report.id", index=True)
    added_at: datetime = created_at_field()
