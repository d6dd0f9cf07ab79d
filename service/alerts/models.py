"""What the body alerts remember: per organisation and grievance body, whether the body's on-time
share was below the organisation's threshold at the last check (an alert goes out on the way down)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from service.kit.models import ts_field


class BodyAlert(SQLModel, table=True):
    __tablename__ = "body_alert"
    __table_args__ = (UniqueConstraint("org_id", "body_id", name="uq_body_alert_org_body"),)
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    body_id: int = Field(foreign_key="grievance_body.id")
    below: bool = Field(default=False)
    # How many times it went below (each crossing alerts once: the number is in the emails' dedupe key).
    crossings: int = Field(default=0)
    # The figures of the last change: on-time share (percent) and the escalations it was taken over.
    share: int | None = Field(default=None)
    total: int = Field(default=0)
    changed_at: datetime | None = ts_field()
