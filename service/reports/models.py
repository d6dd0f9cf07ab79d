"""Reports, their reporters (pseudonyms only) and their timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, get_args

from sqlalchemy import JSON, BigInteger, Column, Index, LargeBinary, Text, event, inspect
from sqlmodel import Field, SQLModel

from service.kit.clock import now
from service.kit.models import created_at_field, table_of, ts_field

CATEGORIES = ("service_quality", "stigma_discrimination", "financial_hardship", "human_rights_violation", "other")
URGENCIES = ("urgent", "high", "normal")
CHANNELS = ("sms", "whatsapp", "telegram", "web")
# Who said how much a reporter was asked to pay (docs/triage.md, "Amounts of money").
FEE_SOURCES = ("extracted", "reporter", "handler")
# ISO 4217 codes a fee may be in: Cambodia, and the mining corridor of Southern Africa.
FEE_CURRENCIES = ("KHR", "USD", "ZAR", "MZN", "LSL", "SZL", "BWP", "MWK")
# Key and affected populations a report may concern (inferred by triage or set by a handler).
# Documentation codes of a rights violation (docs/triage.md, "Documentation codes"): who did it and what
# was done, in the terms rights-violation documentation uses. Optional; suggested by triage, set by a handler.
PerpetratorType = Literal["police", "health_worker", "employer", "family_member", "community_leader", "other"]
ViolationType = Literal[
    "arbitrary_detention",
    "compulsory_detention",
    "physical_violence",
    "sexual_violence",
    "extortion",
    "confiscation",
    "forced_testing_disclosure",
    "denial_of_treatment",
    "eviction",
    "threats",
    "other",
]
PERPETRATOR_TYPES: tuple[str, ...] = get_args(PerpetratorType)
VIOLATION_TYPES: tuple[str, ...] = get_args(ViolationType)
CODE_SOURCES = ("triage", "handler")
POPULATIONS = ("msm", "transgender", "sex_worker", "people_who_use_drugs", "plhiv", "tb", "miner", "general")

# Case status lives here and only changes along these edges (service.reports.service.change_status).
STATUSES = (
    "received",
    "triaged",
    "in_progress",
    "escalated",
    "responded",
    "resolved",
    "closed",
    "duplicate",
    "withdrawn",
    "rejected",
)
_ENDS = ("duplicate", "withdrawn", "rejected")
ALLOWED_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "received": ("triaged", "in_progress", *_ENDS),
    "triaged": ("in_progress", "escalated", *_ENDS),
    "in_progress": ("escalated", "responded", "resolved", *_ENDS),
    "escalated": ("escalated", "responded", "in_progress", "resolved", *_ENDS),
    "responded": ("escalated", "in_progress", "resolved", *_ENDS),
    "resolved": ("closed", "in_progress"),
    "closed": ("in_progress",),  # a reporter's "not resolved" reopens a case for a supervisor
    "duplicate": ("in_progress",),
    "withdrawn": (),
    "rejected": ("in_progress",),
}
# The timestamp each status stamps on the report when entered.
STATUS_STAMPS = {"resolved": "resolved_at", "closed": "closed_at", "withdrawn": "withdrawn_at"}


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
    urgency: str = Field(default="normal", max_length=8)  # indexed by ix_report_queue_all (urgency, ...)
    place_id: int | None = Field(default=None, foreign_key="place.id")  # ix_report_place_created (place_id, ...)
    place_text_masked: str | None = Field(default=None, max_length=300)
    consent_followup: bool | None = Field(default=None)
    assisted: bool = Field(default=False)
    status: str = Field(default="received", max_length=16, index=True)
    deferred_until: datetime | None = ts_field()
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()
    withdrawn_at: datetime | None = ts_field()
    # Triage: set the moment a report arrives, with its reasons, before any person reads it.
    population: str | None = Field(default=None, max_length=32, index=True)
    secondary_category: str | None = Field(default=None, max_length=40)
    triage_confidence: float | None = Field(default=None)
    triage_language: str | None = Field(default=None, max_length=8)  # en, km, km-Latn, pt
    triage_reasons: list | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    cluster_id: int | None = Field(default=None, foreign_key="report_cluster.id")  # partial index below
    # Handling: whose queue holds the case, who has it, and the current deadline.
    org_id: int | None = Field(default=None, foreign_key="organisation.id")  # ix_report_queue_org (org_id, ...)
    assigned_user_id: int | None = Field(default=None, foreign_key="app_user.id")  # partial index below
    due_at: datetime | None = ts_field()  # partial index below
    first_response_at: datetime | None = ts_field()
    resolved_at: datetime | None = ts_field()
    closed_at: datetime | None = ts_field()
    # The reporter's answer at closure: yes, no, partly.
    satisfaction: str | None = Field(default=None, max_length=8)
    # An informal fee named in the report: the amount in hundredths of the currency (20,000 riel is
    # 2000000), its ISO 4217 code, who gave it (FEE_SOURCES) and, when read from the text, the words.
    # fee_source "reporter" with no amount: the reporter said the amount read from the text was wrong.
    fee_cents: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    fee_currency: str | None = Field(default=None, max_length=3)
    fee_source: str | None = Field(default=None, max_length=16)
    # none_as_null: no reasons is SQL NULL, as the webhook's Core insert leaves it (not the JSON text 'null')
    fee_reasons: list | None = Field(default=None, sa_column=Column(JSON(none_as_null=True), nullable=True))
    # Documentation codes (PERPETRATOR_TYPES, VIOLATION_TYPES), each with who set it (CODE_SOURCES): a
    # source "handler" with no value means the handler decided there is none (triage leaves it alone).
    # code_reasons: triage's reasons for its suggestion (lexicon words, never the reporter's own).
    perpetrator_type: str | None = Field(default=None, max_length=24)
    perpetrator_source: str | None = Field(default=None, max_length=8)
    violation_type: str | None = Field(default=None, max_length=32)
    violation_source: str | None = Field(default=None, max_length=8)
    code_reasons: list | None = Field(default=None, sa_column=Column(JSON(none_as_null=True), nullable=True))


# Migration 0008: every index on `report` is paid by each SMS webhook's INSERT. These
# three columns are empty when a report arrives and are only ever looked up by a value (cluster
# members, a user's cases, deadlines passed), so their indexes leave the empty rows out.
# org_id, urgency and place_id have no index of their own: each is the first column of a
# wider index (ix_report_queue_org, ix_report_queue_all, ix_report_place_created).
for _column in ("cluster_id", "assigned_user_id", "due_at"):
    _c = table_of(Report).c[_column]
    Index(f"ix_report_{_column}", _c, sqlite_where=_c.isnot(None), postgresql_where=_c.isnot(None))
del _column, _c


class ReportCluster(SQLModel, table=True):
    """Near-duplicate reports (same place, category, similar text, close in time)."""

    __tablename__ = "report_cluster"
    id: int | None = Field(default=None, primary_key=True)
    category: str | None = Field(default=None, max_length=40, index=True)
    place_id: int | None = Field(default=None, foreign_key="place.id", index=True)
    size: int = Field(default=1)
    # Flagged once the size passes the threshold: a possible systemic problem.
    systemic: bool = Field(default=False, index=True)
    label: str = Field(default="", max_length=200)
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


class ReportEvent(SQLModel, table=True):
    """One entry of a report's timeline."""

    __tablename__ = "report_event"
    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="report.id", index=True)
    kind: str = Field(max_length=32)
    actor: str = Field(default="system", max_length=80)
    detail: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = created_at_field()


# -- every change to a field the dashboard aggregates bumps `report.updated_at` --------------------------
#
# The analytics rollup (service/analytics/rollup.py) finds what to recompute by `updated_at`.
# Rather than trusting every write path (status changes, triage corrections, closure,
# satisfaction, body answers, merges, …) to remember the bump, a mapper event does it at
# flush time for any ORM change of one of AGGREGATED; a writer that sets `updated_at` itself
# keeps its value. Changes to a report's escalations bump it too (service/escalation/models.py).
# Bulk Core UPDATEs of these columns bypass this: bump `updated_at` in the same statement.

# The report columns the rollup reads (tests/analytics/test_body_rollup.py checks this list against
# the SQL the rollup actually runs).
AGGREGATED = frozenset(
    {
        "status",
        "category",
        "urgency",
        "channel",
        "population",
        "place_id",
        "created_at",
        "due_at",
        "first_response_at",
        "resolved_at",
        "closed_at",
        "satisfaction",
        "cluster_id",
        "org_id",  # the zone a report's local day is counted in (service/analytics/localday.py)
    }
)


@event.listens_for(Report, "before_update")
def _bump_updated_at(mapper, connection, target: Report) -> None:
    state = inspect(target)
    if state.attrs.updated_at.history.has_changes():
        return
    if any(state.attrs[name].history.has_changes() for name in AGGREGATED):
        target.updated_at = now()
