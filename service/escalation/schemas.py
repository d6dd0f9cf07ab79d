"""API shapes for integrating bodies."""

from __future__ import annotations

from pydantic import BaseModel, Field


class BodyResponseIn(BaseModel):
    action: str = Field(pattern="^(acknowledge|action_taken|resolved|not_ours)$")
    text: str = Field(default="", max_length=4000)


class EscalationOut(BaseModel):
    escalation: int
    case: int
    status: str
    category: str | None
    urgency: str
    place: dict | None
    narrative_masked: str
    due_at: str | None
    respond_url: str
