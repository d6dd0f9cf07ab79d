"""One row per check-in a case is due: the +7 and +30 day questions "has anyone treated you worse?"."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from service.kit.clock import now
from service.kit.models import UTCDateTime, created_at_field, ts_field

# scheduled → sent → answered (answer no | yes); skipped when it could not be asked (no consent, the
# reporter said STOP, the report was withdrawn, the contact was erased); undelivered when its message
# was given up by the outbox or reported undelivered by the carrier (not sent again automatically: a
# handler follows up, and may have it sent again, when it is "sent" once more). A sent one nobody
# answers stays "sent" (its question expires).
STATUSES = ("scheduled", "sent", "answered", "skipped", "undelivered")
ANSWERS = ("no", "yes")


class RetaliationCheckin(SQLModel, table=True):
    __tablename__ = "retaliation_checkin"
    # One check-in per case and day, whatever the number of workers scheduling it.
    __table_args__ = (UniqueConstraint("report_id", "day", name="uq_retaliation_checkin_day"),)
    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="report.id", index=True)
    # The escalation that named the facility or authority (the case's first qualifying one).
    escalation_id: int | None = Field(default=None, foreign_key="escalation.id")
    # Where the case happened (its report's place), kept for the rates per facility.
    place_id: int | None = Field(default=None, foreign_key="place.id", index=True)
    day: int  # days after the escalation: 7, 30 (SAMLENG_RETALIATION_CHECKIN_DAYS)
    due_at: datetime = Field(default_factory=now, sa_type=UTCDateTime, nullable=False, index=True)
    status: str = Field(default="scheduled", max_length=16, index=True)
    skip_reason: str | None = Field(default=None, max_length=32)
    sent_at: datetime | None = ts_field()
    answer: str | None = Field(default=None, max_length=8)
    answered_at: datetime | None = ts_field()
    # The urgent case a "yes" opened.
    followup_report_id: int | None = Field(default=None, foreign_key="report.id")
    created_at: datetime = created_at_field()
