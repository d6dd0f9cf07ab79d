"""Outreach workers who report on someone's behalf (assisted reporting), known by pseudonym only."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from service.kit.models import created_at_field, ts_field


class AgentLinkCode(SQLModel, table=True):
    """A one-time code a web-app user hands to an outreach worker; stored only as a keyed hash."""

    __tablename__ = "agent_link_code"
    id: int | None = Field(default=None, primary_key=True)
    code_hash: str = Field(max_length=64, unique=True, index=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    created_by_user_id: int = Field(foreign_key="app_user.id", index=True)
    created_at: datetime = created_at_field()
    expires_at: datetime = created_at_field()
    used_at: datetime | None = ts_field()


class OutreachAgent(SQLModel, table=True):
    """A linked outreach worker: the channel pseudonym (never the account id) and their organisation."""

    __tablename__ = "outreach_agent"
    id: int | None = Field(default=None, primary_key=True)
    pseudonym: str = Field(max_length=64, unique=True, index=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    linked_by_user_id: int = Field(foreign_key="app_user.id")
    linked_at: datetime = created_at_field()
    revoked_at: datetime | None = ts_field()
