"""Tags on cases and saved queue filters (both belong to an organisation)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from service.kit.models import created_at_field


class CaseTag(SQLModel, table=True):
    """A label a handler puts on a case ("police", "stock-out", "follow up Monday")."""

    __tablename__ = "case_tag"
    __table_args__ = (UniqueConstraint("report_id", "tag", name="uq_case_tag"),
                      Index("ix_case_tag_org_tag", "org_id", "tag"))
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id")
    report_id: int = Field(foreign_key="report.id", index=True)
    tag: str = Field(max_length=40)
    created_by: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = created_at_field()


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
