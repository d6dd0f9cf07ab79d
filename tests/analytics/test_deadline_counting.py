"""The dashboard's "Deadlines" figure counts a missed deadline when it passes, as the queue marks it
overdue — not only once a late answer arrives. The same from the report table and from the rollup."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from service.analytics import queries as q, rollup
from service.kit.clock import now
from service.queue.service import is_overdue
from service.reports.models import Report
from tests.support.factories import make_report


def _window() -> q.Filters:
    today = now().replace(hour=0, minute=0, second=0, microsecond=0)
    return q.Filters(today - timedelta(days=30), today + timedelta(days=1))


def _seed(session: Session) -> list[Report]:
    at = now()
    made = [
        # escalated, the body never answered, its deadline passed an hour ago: the queue says overdue
        make_report(session, status="escalated", at=at - timedelta(days=5), due_at=at - timedelta(hours=1), category="service_quality"),
        # still within its deadline
        make_report(session, status="escalated", at=at - timedelta(days=1), due_at=at + timedelta(days=2), category="service_quality"),
        # answered in time, answered late
        make_report(session, status="responded", at=at - timedelta(days=6), due_at=at - timedelta(days=2),
                    first_response_at=at - timedelta(days=3), category="service_quality"),
        make_report(session, status="responded", at=at - timedelta(days=6), due_at=at - timedelta(days=3),
                    first_response_at=at - timedelta(days=2), category="service_quality"),
    ]
    session.commit()
    return made


def test_a_passed_unanswered_deadline_is_missed_not_still_running(session: Session, places: None) -> None:
    made = _seed(session)
    assert is_overdue(made[0]) and not is_overdue(made[1])  # what the queue shows
    assert q.deadline_compliance(session, filters=_window()) == {"met": 1, "missed": 2, "pending": 1}


def test_the_rollup_counts_missed_deadlines_live_too(session: Session, places: None) -> None:
    made = _seed(session)
    rollup.rebuild(session)
    session.commit()
    assert q._rollup_scope(session, _window()) is not q._NO  # the rollup answers these filters
    assert q.deadline_compliance(session, filters=_window()) == {"met": 1, "missed": 2, "pending": 1}
    # A deadline passing after the rollup was written moves the case from running to missed, no rebuild.
    session.get(Report, made[1].id).due_at = now() - timedelta(minutes=1)  # type: ignore[union-attr]
    session.commit()
    assert q.deadline_compliance(session, filters=_window()) == {"met": 1, "missed": 3, "pending": 0}
