"""Grievance bodies: who can fix a problem, where, for what, and how to reach them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from service.kit.models import created_at_field

LEVELS = ("facility", "hcmc", "operational_district", "province", "national", "regional")
# Default response deadline per level, in hours (a body may override its own).
LEVEL_DEADLINE_HOURS = {
    "facility": 72,
    "hcmc": 120,
    "operational_district": 168,
    "province": 240,
    "national": 336,
    "regional": 720,
}


class GrievanceBody(SQLModel, table=True):
    """A body that receives escalated cases; it needs no account, only its contact outputs."""

    __tablename__ = "grievance_body"
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=64, unique=True, index=True)
    name_en: str = Field(max_length=200)
    name_km: str = Field(max_length=200)
    level: str = Field(max_length=24, index=True)
    # Which chain of authority it belongs to (health, drug_control, tb_mining, human_rights …);
    # a ladder rung can ask for a level within one network.
    network: str | None = Field(default=None, max_length=32)
    # The language its emails, SMS alerts and response page are written in (km, en or pt).
    language: str = Field(default="en", max_length=8)
    # Category codes it handles; empty means every category.
    categories: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    deadline_hours: int | None = Field(default=None)
    # How its deadline counts (docs/escalation.md, "Working time"): "calendar" (every hour, the default)
    # or "working" (only its working hours, not on public holidays). Its working calendar: the zone
    # its hours are in, the hours ("mon-fri 08:00-17:00") and the country of its public holidays (KH,
    # ZA, LS, MZ, SZ, BW, MW); each empty falls back to the organisation handling the case.
    deadline_counting: str = Field(default="calendar", max_length=16)
    time_zone: str | None = Field(default=None, max_length=64)
    working_hours: str | None = Field(default=None, max_length=200)
    holiday_country: str | None = Field(default=None, max_length=8)
    # Contact outputs. The webhook secret and the focal person's number are sealed (vault key).
    email: str | None = Field(default=None, max_length=254)
    webhook_url: str | None = Field(default=None, max_length=500)
    webhook_secret_sealed: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    sms_sealed: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    # Keyed hash of the bearer token an integrating body answers through the API with.
    api_token_hash: str | None = Field(default=None, max_length=64, index=True)
    active: bool = Field(default=True)
    # The organisation that manages it (created it, or was handed it); NULL: shared by every
    # organisation and changed by a platform administrator only (docs/supervisors.md).
    owner_org_id: int | None = Field(default=None, foreign_key="organisation.id", index=True)
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


class BodyPlace(SQLModel, table=True):
    """A body's jurisdiction: the places (and everything under them) it covers."""

    __tablename__ = "grievance_body_place"
    __table_args__ = (UniqueConstraint("body_id", "place_id", name="uq_grievance_body_place"),)
    id: int | None = Field(default=None, primary_key=True)
    body_id: int = Field(foreign_key="grievance_body.id", index=True)
    place_id: int = Field(foreign_key="place.id", index=True)
