"""Plain factories for triage tests."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from service.places.models import Place
from service.reports import service as reports
from service.reports.models import Report


def make_report(session: Session, narrative: str, *, place_id: int | None = None, at: datetime | None = None,
                **fields: object) -> Report:
    report, _code = reports.create_report(session, channel="sms", reporter_id=None, narrative=narrative,
                                          language="en", at=at)
    report.place_id = place_id
    for key, value in fields.items():
        setattr(report, key, value)
    session.add(report)
    session.flush()
    return report


def two_places(session: Session) -> tuple[int, int]:
    rows = session.exec(select(Place).where(Place.kind == "health_centre").order_by(Place.id).limit(2)).all()
    assert len(rows) == 2, "places data not loaded"
    return rows[0].id, rows[1].id  # type: ignore[return-value]
