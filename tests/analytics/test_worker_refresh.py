"""The worker keeps the dashboards' pre-aggregated table current."""

from __future__ import annotations

from sqlmodel import Session, select

from service.analytics.rollup import AnalyticsState
from service.worker import Worker
from service.reports.service import create_report


def test_a_worker_pass_builds_the_rollup_and_then_waits_a_minute(engine, settings) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        create_report(s, channel="sms", reporter_id=None, narrative="No ARV this week", language="en")
        s.commit()
    worker = Worker(engine, settings)
    worker.run_once()
    with Session(engine) as s:
        first = s.exec(select(AnalyticsState)).all()
        assert first and all(state.at is not None for state in first)
        stamp = max(state.at for state in first)  # type: ignore[type-var]
    worker.run_once()  # within the minute: no second refresh
    with Session(engine) as s:
        assert max(state.at for state in s.exec(select(AnalyticsState)).all()) == stamp  # type: ignore[type-var]
