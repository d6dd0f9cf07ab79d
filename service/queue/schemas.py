"""API shapes. Request bodies forbid unknown fields, so organisation, status or contact
fields cannot ride along on an unrelated change (mass assignment)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from service.reports.models import PerpetratorType, ViolationType

Category = Literal["service_quality", "stigma_discrimination", "financial_hardship", "human_rights_violation", "other"]
Urgency = Literal["urgent", "high", "normal"]
Status = Literal[
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
]


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


class CaseListQuery(BaseModel):
    """The query parameters of GET /api/v1/cases, validated in one step by pydantic-core.

    The route reads them itself (`parse_list_query`) instead of declaring 13 FastAPI parameters:
    the same types and limits, answered the same way (422 naming the fields), and documented in
    OpenAPI from this model (`list_query_parameters`), at a hundredth of the per-request cost.
    """

    model_config = ConfigDict(extra="ignore")
    status: (
        list[
            Literal[
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
                "all",
            ]
        ]
        | None
    ) = None
    category: Category | None = None
    urgency: Urgency | None = None
    place_id: int | None = Field(None, ge=1, le=2**31 - 1)
    channel: Literal["sms", "whatsapp", "telegram", "web"] | None = None
    population: (
        Literal["msm", "transgender", "sex_worker", "people_who_use_drugs", "plhiv", "tb", "miner", "general"] | None
    ) = None
    assigned: Literal["me", "unassigned"] | None = None
    overdue: bool = False
    cluster_id: int | None = Field(None, ge=1, le=2**31 - 1)
    q: str | None = Field(None, max_length=200)
    tag: str | None = Field(None, max_length=40, description="cases carrying this tag (docs/supervisors.md)")
    cursor: str | None = Field(None, max_length=400)
    limit: int = Field(50, ge=1, le=200)
    with_counts: bool = False


_LIST_FIELDS = frozenset(CaseListQuery.model_fields)


class InvalidQuery(ValueError):
    """Query parameters that do not fit CaseListQuery; `fields` names them ("query.limit")."""

    def __init__(self, fields: list[str]) -> None:
        super().__init__("invalid input")
        self.fields = fields


def parse_list_query(params: Any) -> CaseListQuery:
    """CaseListQuery from a request's query parameters (a multi-dict: `status` may repeat; for
    the other names the last value counts, as in FastAPI). Unknown names are ignored."""
    raw: dict[str, Any] = {}
    for name, value in params.multi_items():
        if name == "status":
            raw.setdefault("status", []).append(value)
        elif name in _LIST_FIELDS:
            raw[name] = value
    try:
        return CaseListQuery.model_validate(raw)
    except ValidationError as exc:
        # Name the fields, never echo the values (they may hold a number or a story).
        raise InvalidQuery([".".join(("query", *(str(p) for p in err["loc"]))) for err in exc.errors()]) from None


def list_query_parameters() -> list[dict[str, Any]]:
    """The OpenAPI `parameters` of GET /api/v1/cases, from CaseListQuery (as FastAPI would write them)."""
    properties = CaseListQuery.model_json_schema()["properties"]
    return [
        {
            "name": name,
            "in": "query",
            "required": False,
            "schema": {k: v for k, v in schema.items() if not (k == "default" and v is None)},
        }
        for name, schema in properties.items()
    ]


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
    # The amount the reporter was asked to pay: plain digits ("20000", "2.5"), ISO 4217 code, and who gave it
    # (extracted, reporter, handler); fee_source "reporter" without an amount: the reporter said the read one was wrong.
    fee_amount: str | None = None
    fee_currency: str | None = None
    fee_source: str | None = None
    # Documentation codes of a rights violation and who set each (triage: a suggestion; handler).
    perpetrator_type: str | None = None
    perpetrator_source: str | None = None
    violation_type: str | None = None
    violation_source: str | None = None
    can_reply: bool
    allowed_statuses: list[str]
    timeline: list[TimelineItem]


class CodesIn(Strict):
    """Documentation codes: a code, "" for none (the handler decided there is none), or left out (unchanged)."""

    perpetrator_type: PerpetratorType | Literal[""] | None = None
    violation_type: ViolationType | Literal[""] | None = None


class FeeIn(Strict):
    amount: str = Field(default="", max_length=24)  # "" removes the amount
    currency: str = Field(min_length=3, max_length=3)


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
    # Absent: keep the population; null: not known; a value: the corrected population.
    population: (
        Literal["msm", "transgender", "sex_worker", "people_who_use_drugs", "plhiv", "tb", "miner", "general"] | None
    ) = None


class MergeIn(Strict):
    into_case_id: int = Field(ge=1, le=2**31 - 1)


class ReplyIn(Strict):
    template: Literal["received", "more_info", "escalated", "resolved"] | None = None
    text: str | None = Field(default=None, max_length=640)
    # Wait for the reporter's answer: the waiting body's deadline pauses until it comes (the
    # "more_info" template always waits).
    wait_for_answer: bool = False


class ReplyOut(BaseModel):
    outbound_id: int
    segments: int
    encoding: str


class Done(BaseModel):
    ok: bool = True


# -- escalation, reroute, evidence ---------------------------------------------
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
    # How the deadline counts ("calendar" or "working"), and since when it is paused waiting on the reporter.
    counting: str = "calendar"
    paused_at: datetime | None = None


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
