"""Case status moves only along the allowed-transition table, stamping and recording each move."""

from __future__ import annotations

import pytest
from sqlmodel import select

from service.reports import service as reports
from service.reports.models import ALLOWED_TRANSITIONS, STATUSES, ReportEvent
from tests.support.factories import make_report


def test_every_status_and_target_is_known() -> None:
    assert set(ALLOWED_TRANSITIONS) == set(STATUSES)
    for targets in ALLOWED_TRANSITIONS.values():
        assert set(targets) <= set(STATUSES)


def test_allowed_path_stamps_and_records(session) -> None:  # type: ignore[no-untyped-def]
    report = make_report(session, narrative="no ARVs")
    for to in ("triaged", "in_progress", "escalated", "responded", "resolved", "closed"):
        reports.change_status(session, report, to, actor="user:1")
    session.flush()
    assert report.status == "closed"
    assert report.resolved_at is not None and report.closed_at is not None
    moves = session.exec(select(ReportEvent).where(ReportEvent.report_id == report.id, ReportEvent.kind == "status")).all()
    assert [(m.detail["from"], m.detail["to"]) for m in moves][-1] == ("resolved", "closed")
    assert len(moves) == 6 and all(m.actor == "user:1" for m in moves)


@pytest.mark.parametrize("start,to", [("received", "closed"), ("received", "resolved"), ("withdrawn", "in_progress")])
def test_disallowed_move_is_refused_and_changes_nothing(session, start, to) -> None:  # type: ignore[no-untyped-def]
    report = make_report(session, narrative="no ARVs")
    report.status = start
    with pytest.raises(reports.InvalidTransition):
        reports.change_status(session, report, to)
    assert report.status == start


def test_rejection_keeps_its_reason(session) -> None:  # type: ignore[no-untyped-def]
    report = make_report(session, narrative="no ARVs")
    reports.change_status(session, report, "rejected", reason="spam")
    session.flush()
    event = session.exec(select(ReportEvent).where(ReportEvent.kind == "status")).one()
    assert event.detail == {"from": "received", "to": "rejected", "reason": "spam"}
