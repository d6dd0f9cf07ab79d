"""Saved queue filters (an organisation's or a user's); the tags on cases are the queue's
(service/queue/models.py `CaseTag`: the queue filters by them)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from service.kit.models import created_at_field


class SavedFilter(SQLModel, table=True):
    """A named view of the queue: the filters' query string, the user's own or shared with the organisation."""

    __tablename__ = "saved_filter"
    id: int | None = Field(default=None, primary_key=True)
    org_id: int | None = Field(default=None, foreign_key="organisation.id", index=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    name: str = Field(max_length=80)
    query: str = Field(max_length=600)
    shared: bool = Field(default=False)
    created_at: datetime = created_at_field()


class ReplyTemplate(SQLModel, table=True):
    """A reply to reporters that a supervisor writes for their organisation, in Khmer, English and Portuguese."""

    __tablename__ = "reply_template"
    __table_args__ = (UniqueConstraint("org_id", "name", name="uq_reply_template_name"),)
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    name: str = Field(max_length=80)
    text_km: str = Field(default="", max_length=640)
    text_en: str = Field(default="", max_length=640)
    text_pt: str = Field(default="", max_length=640)
    active: bool = Field(default=True)
    updated_at: datetime = created_at_field()
