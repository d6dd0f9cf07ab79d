"""Analytics test data: many reports at once, through the shared report factory."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlmodel import Session

from tests.support.factories import make_report

T0 = datetime(2026, 7, 6, 9, 0, tzinfo=timezone.utc)  # a Monday in Q3 2026


def make_many(session: Session, count: int, *, at: datetime | None = None, category: str = "service_quality",
              **columns: object) -> None:
    """`count` reports of one category: all at `at` when given, else an hour apart from T0."""
    for i in range(count):
        make_report(session, at=at if at is not None else T0 + timedelta(hours=i), category=category,
                    **columns)  # type: ignore[arg-type]
