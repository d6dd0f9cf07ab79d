"""Plain factories for analytics tests: reports with chosen fields, straight into the table."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone

from sqlmodel import Session, select

from service.places.models import Place
from service.reports.models import Report

_seq = itertools.count(1)
T0 = datetime(2026, 7, 6, 9, 0, tzinfo=timezone.utc)  # a Monday in Q3 2026


def place(session: Session, code: str) -> Place:
    found = session.exec(select(Place).where(Place.code == code)).first()
    assert found is not None, code
    return found


def make_report(session: Session, **kw: object) -> Report:
    n = next(_seq)
    fields: dict[str, object] = {
        "receipt_hash": f"test-{n:08d}-{id(session)}", "channel": "sms", "narrative_masked": "story",
        "created_at": T0, "updated_at": T0, "category": "service_quality", "urgency": "normal",
    }
    fields.update(kw)
    report = Report(**fields)  # type: ignore[arg-type]
    session.add(report)
    return report


def make_many(session: Session, count: int, **kw: object) -> None:
    for i in range(count):
        make_report(session, **{**kw, "created_at": kw.get("created_at", T0 + timedelta(hours=i))})
