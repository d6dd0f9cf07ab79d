"""API shapes. Request bodies forbid unknown fields, so organisation, status or contact
fields cannot ride along on an unrelated change (mass assignment)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Category = Literal["service_quality", "stigma_discrimination", "financial_hardship", "human_rights_violation",
                   "other"]
Urgency = Literal["urgent", "high", "normal"]
Status = Literal["received", "triaged", "in_progress", "escalated", "responded", "resolved", "closed",
                 "duplicate", "withdrawn", "rejected"]


class Problem(BaseModel):
    """Every error answer: a message safe to show, and for invalid input the names of the fields."""

    detail: str
    fields: list[str] | None = None


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CaseSummary(BaseModel):
    id: int
    status: str
    category: str | None
    urgency: str
    channel: str
    population: str | None
    language: str
    place_id: int | None
    place_name: str | None
    narrative_masked: str
    created_at: datetime
    updated_at: datetime
    due_at: datetime | None
    overdue: bool
    assigned_user_id: int | None
    cluster_id: int | None
    org_id: int | None


class CasePage(BaseModel):
    items: list[CaseSummary]
    next_cursor: str | None
    counts: dict[str, int] | None = None


class TimelineItem(BaseModel):
    at: datetime
    kind: str
    actor: str
    detail: dict


class CaseDetail(CaseSummary):
    subcategory: str | None
    category_source: str | None
    secondary_category: str | None
    triage_confidence: float | None
    triage_language: str | None
    triage_reasons: list | None
    place_text_masked: str | None
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    can_reply: bool
    allowed_statuses: list[str]
    timeline: list[TimelineItem]


class AssignIn(Strict):
    user_id: int = Field(ge=1, le=2**31 - 1)


class NoteIn(Strict):
    text: str = Field(min_length=1, max_length=4000)


class StatusIn(Strict):
    to: Status
    reason: str | None = Field(default=None, max_length=500)


class TriageIn(Strict):
    category: Category | None = None
    urgency: Urgency | None = None


class MergeIn(Strict):
    into_case_id: int = Field(ge=1, le=2**31 - 1)


class ReplyIn(Strict):
    template: Literal["received", "more_info", "escalated", "resolved"] | None = None
    text: str | None = Field(default=None, max_length=640)


class ReplyOut(BaseModel):
    outbound_id: int
    segments: int
    encoding: str


class Done(BaseModel):
    ok: bool = True


# -- escalation, reroute, evidence (wired at merge) ---------------------------------------------
class EscalateIn(Strict):
    # The latest escalation id the caller saw (0: none). The same value twice is one escalation.
    after: int = Field(0, ge=0, le=2**31 - 1)


class RerouteIn(Strict):
    rule_key: str = Field(min_length=1, max_length=64)


class EscalationInfo(BaseModel):
    id: int
    body: str | None
    body_name: str | None
    rung: int
    status: str
    due_at: datetime | None
    created_at: datetime


class EscalateOut(BaseModel):
    escalation: EscalationInfo
    created: bool


class LadderRung(BaseModel):
    rung: int
    level: str | None
    body: str | None
    name_en: str | None
    current: bool


class EscalationState(BaseModel):
    current: EscalationInfo | None
    rule: str | None
    ladder: list[LadderRung]
    needs_reroute: bool
    evidence: list[int]
