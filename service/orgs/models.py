"""Organisations (CSOs) and their users."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from service.kit.models import created_at_field

ROLES = ("handler", "supervisor", "admin")
SUPERVISING = ("supervisor", "admin")  # the roles that see their whole organisation's work
# The body alert looks at the escalations of the cases reported in this many last days.
BODY_ALERT_WINDOW_DAYS = 90


class Organisation(SQLModel, table=True):
    __tablename__ = "organisation"
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=64, unique=True, index=True)
    name: str = Field(max_length=200)
    created_at: datetime = created_at_field()
    # The IANA zone its handlers work in (docs/time-zones-and-languages.md); None: the platform default.
    time_zone: str | None = Field(default=None, max_length=64)
    # The language its people read alert emails in when they have not chosen one (km, en, pt); None: en + km.
    language: str | None = Field(default=None, max_length=8)
    # Its working calendar (docs/escalation.md, "Working time"): the hours its people work
    # ("mon-fri 08:00-17:00"; None: that default) and the country whose public holidays it keeps (KH,
    # ZA, LS, MZ, SZ, BW, MW; None: none). A body counting working time without its own uses these.
    working_hours: str | None = Field(default=None, max_length=200)
    holiday_country: str | None = Field(default=None, max_length=8)
    # Alert the supervisors when a grievance body answers fewer than this share (percent) of the
    # organisation's escalations by their deadline (docs/supervisors.md); None: no such alert.
    body_alert_below: int | None = Field(default=None)


class User(SQLModel, table=True):
    __tablename__ = "app_user"
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)
    org_id: int | None = Field(default=None, foreign_key="organisation.id", index=True)
    role: str = Field(max_length=16)
    password_hash: str = Field(max_length=255)
    is_active: bool = Field(default=True)
    created_at: datetime = created_at_field()
    # The user's own choice on the account page; None: the organisation's zone.
    time_zone: str | None = Field(default=None, max_length=64)
    # The language the user last chose for the pages (km, en, pt): their alert emails use it; None: the organisation's.
    language: str | None = Field(default=None, max_length=8)
