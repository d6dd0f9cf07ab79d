"""Retention purges every case that has ended, whatever way it ended: closed, rejected, duplicate
and withdrawn cases lose their contact and raw narrative on the same schedule; open cases keep them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from service.intake.models import ContactVault
from service.reports.models import ALLOWED_TRANSITIONS, Report, STATUSES
from service.reports.service import change_status
from service.retention.service import TERMINAL_STATUSES, purge
from tests.escalation.factories import make_case

PATHS = {"closed": ["in_progress", "resolved", "closed"], "rejected": ["rejected"], "duplicate": ["duplicate"],
         "withdrawn": ["withdrawn"]}


def test_the_terminal_statuses_are_every_status_with_no_way_forward_but_reopening() -> None:
    ends = {s for s in STATUSES if set(ALLOWED_TRANSITIONS[s]) <= {"in_progress"}}
    assert set(TERMINAL_STATUSES) == ends == set(PATHS)


@pytest.mark.parametrize("status", sorted(PATHS))
def test_each_ended_case_is_purged_on_schedule(settings, engine, seeded, controlled_clock, status: str) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        ended = make_case(s, narrative="RAWSTORY ended", address="+85512399101", population=None, route=False)
        open_ = make_case(s, narrative="RAWKEPT open", address="+85512399102", population=None, route=False)
        for step in PATHS[status]:
            change_status(s, ended, step, actor="handler")
        ended_id, open_id = ended.id, open_.id
        s.commit()
    controlled_clock.advance(timedelta(days=settings.contact_grace_days, hours=1))
    with Session(engine) as s:
        purge(s)
        s.commit()
        assert s.exec(select(ContactVault).where(ContactVault.report_id == ended_id)).all() == []
        assert s.exec(select(ContactVault).where(ContactVault.report_id == open_id)).first() is not None
    controlled_clock.advance(timedelta(days=settings.narrative_retention_days))
    with Session(engine) as s:
        purge(s)
        s.commit()
        assert s.get(Report, ended_id).narrative_sealed is None  # type: ignore[union-attr]
        assert s.get(Report, open_id).narrative_sealed is not None  # type: ignore[union-attr]
