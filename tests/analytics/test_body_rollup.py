"""Body metrics through the rollup equal the same metrics straight from the tables, after every write path.

Each scenario builds escalated cases through the real services, lets two days pass, builds the
rollup, then changes the data through one write path (a status change, a triage correction,
a closure, the reporter's satisfaction answer, a body's answer, an expiry and a move up the
ladder, a merge, a withdrawal, a retention purge), refreshes incrementally and compares every
figure of the dashboard and the body metrics with the figures computed from `report` and
`escalation`. The reports' `updated_at` is two days old when the rollup is built, so a write
path that changed an aggregated field without reaching the rollup leaves it stale and fails.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import event
from sqlmodel import Session, select

from service.flows import deadlines
from service.analytics import escalations as em, queries as q, rollup
from service.escalation import reporter_updates, service as esc
from service.escalation.models import Escalation
from service.intake import questions, withdrawal
from service.kit import clock
from service.orgs.models import Organisation
from service.orgs.service import create_user
from service.queue import actions
from service.reports import service as reports
from service.reports.models import Report, ReportCluster
from service.reports.models import AGGREGATED
from service.retention import service as retention
from tests.analytics.test_rollup import _everything
from tests.escalation.conftest import controlled_clock, seeded  # noqa: F401  (fixtures)
from tests.escalation.factories import make_case
from tests.support.factories import place


def _body_figures(session: Session, filters: q.Filters) -> dict:
    return {"per_body": em.escalations_per_body(session, filters), "deadline": em.deadline_tally(session, filters),
            "hours": em.answer_hours(session, filters),
            "providers": [m for m in q.body_metrics(session, filters=filters)]}


def _figures(session: Session) -> list:
    day = clock.now().replace(hour=0, minute=0, second=0, microsecond=0)
    scopes = [q.Filters(), q.Filters(day - timedelta(days=10), day + timedelta(days=1)),
              q.Filters(place_id=place(session, "KH-2").id)]
    return [(_everything(session, f), _body_figures(session, f)) for f in scopes]


def _direct(session: Session, monkeypatch: pytest.MonkeyPatch) -> list:
    with monkeypatch.context() as m:
        m.setattr(q, "_rollup_scope", lambda s, f: q._NO)
        return _figures(session)


def _via_rollup(session: Session) -> list:
    day = clock.now().replace(hour=0, minute=0, second=0, microsecond=0)
    assert q._rollup_scope(session, q.Filters(day - timedelta(days=10), day)) is not q._NO
    return _figures(session)


def _world(s: Session) -> dict:
    """Six routed cases: one waiting at a body, one acknowledged, one resolved by the body and closed,
    one in progress, one answered with an action, one untouched; a supervisor of their organisation."""
    cases = [make_case(s, address=f"+85512000{i:03d}") for i in range(6)]
    waiting = esc.escalate(s, cases[0], actor="handler")
    acked = esc.escalate(s, cases[1], actor="handler")
    esc.record_response(s, acked, action="acknowledge")
    fixed = esc.escalate(s, cases[2], actor="handler")
    esc.record_response(s, fixed, action="resolved", text="The fee was refunded")
    esc.close_case(s, cases[2], actor="handler")
    reports.change_status(s, cases[3], "in_progress", actor="handler")
    acted = esc.escalate(s, cases[4], actor="handler")
    esc.record_response(s, acted, action="action_taken", text="Stock ordered")
    org = s.get(Organisation, cases[0].org_id)
    assert org is not None and all(c.org_id == org.id for c in cases)
    user = create_user(s, email="sup@bodies.test", org_slug=org.slug, role="supervisor", password="correct-horse-battery")
    s.commit()
    return {"cases": cases, "waiting": waiting, "acted": acted, "user": user}


def _status_change(s: Session, w: dict) -> None:
    actions.set_status(s, user=w["user"], report=w["cases"][3], to="resolved")


def _triage_correction(s: Session, w: dict) -> None:
    actions.correct_triage(s, user=w["user"], report=w["cases"][5], category="financial_hardship", urgency="urgent")


def _closure(s: Session, w: dict) -> None:
    esc.close_case(s, w["cases"][0], actor="handler")  # its waiting escalation is cancelled: no longer counted


def _satisfaction(s: Session, w: dict) -> None:
    case = w["cases"][2]
    question = questions.ask(s, reporter_id=case.reporter_id, report_id=case.id, kind="satisfaction", language="en")
    assert reporter_updates.answer_satisfaction(s, question, "partly", "en") is not None  # no status change: only the answer


def _body_acknowledges(s: Session, w: dict) -> None:
    esc.record_response(s, w["waiting"], action="acknowledge")


def _body_resolves(s: Session, w: dict) -> None:
    esc.record_response(s, w["acted"], action="resolved", text="Done")


def _deadline_passes(s: Session, w: dict) -> None:
    clock.advance(timedelta(days=6))  # past the first body's deadline: expired, the case moves up a rung
    assert deadlines.check_deadlines(s)["moved_up"] >= 1


def _merge(s: Session, w: dict) -> None:
    actions.merge(s, user=w["user"], report=w["cases"][5], into_id=w["cases"][3].id)


def _withdrawal(s: Session, w: dict) -> None:
    withdrawal.withdraw(s, w["cases"][5])


def _retention_purge(s: Session, w: dict) -> None:
    clock.advance(timedelta(days=400))
    assert retention.purge(s)["narratives"] >= 1  # purges narratives and contacts: no aggregated field


PATHS: dict[str, tuple[Callable[[Session, dict], None], bool | None]] = {
    "status change": (_status_change, True),
    "triage correction": (_triage_correction, True),
    "closure": (_closure, True),
    "satisfaction answer": (_satisfaction, True),
    "body acknowledges": (_body_acknowledges, True),
    "body resolves": (_body_resolves, True),
    "deadline expiry and next rung": (_deadline_passes, True),
    "merge into a cluster": (_merge, True),
    "withdrawal": (_withdrawal, True),
    # 400 days on, waiting escalations are overdue (counted live): the figures move, but not through the purge.
    "retention purge": (_retention_purge, None),
}


@pytest.mark.parametrize("path", list(PATHS))
def test_rollup_follows_every_write_path(path: str, session: Session, seeded, controlled_clock,  # type: ignore[no-untyped-def]  # noqa: F811
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    world = _world(session)
    clock.advance(timedelta(days=2))  # the cases' updated_at is now well outside the refresh overlap
    rollup.rebuild(session)
    session.commit()
    before = _direct(session, monkeypatch)
    assert _via_rollup(session) == before
    change, changes_figures = PATHS[path]
    change(session, world)
    session.commit()
    after = _direct(session, monkeypatch)
    if changes_figures is not None:
        assert (after != before) is changes_figures, "the scenario must change what the dashboard shows"
    assert rollup.refresh(session) >= 0
    session.commit()
    assert _via_rollup(session) == after


def test_body_figures_from_the_rollup_equal_the_tables(session: Session, seeded, controlled_clock,  # type: ignore[no-untyped-def]  # noqa: F811
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Mixed outcomes: on time, late, never (expired twice up the ladder), still waiting, not ours."""
    cases = [make_case(session) for _ in range(8)]
    found = [esc.escalate(session, c, actor="handler") for c in cases]
    esc.record_response(session, found[0], action="acknowledge")
    esc.record_response(session, found[1], action="resolved", text="ok")
    esc.record_response(session, found[2], action="not_ours")
    session.commit()
    clock.advance(timedelta(hours=100))
    esc.record_response(session, found[3], action="action_taken", text="late but done")  # after the HCMC's 72 h?
    session.commit()
    clock.advance(timedelta(hours=30))
    deadlines.check_deadlines(session)  # the unanswered ones expire and move up a rung
    session.commit()
    clock.advance(timedelta(hours=200))
    deadlines.check_deadlines(session)
    session.commit()
    direct = _direct(session, monkeypatch)
    rollup.rebuild(session)
    session.commit()
    assert _via_rollup(session) == direct
    everything = direct[0][1]
    assert sum(everything["per_body"].values()) == session.exec(
        select(Escalation).where(Escalation.status != "cancelled")).all().__len__()
    on_time = sum(v[0] for v in everything["deadline"].values())
    late = sum(v[1] for v in everything["deadline"].values())
    assert on_time == 3 and late >= 5, everything["deadline"]  # 3 answered at once; 1 late answer, 4+ expiries
    # An escalation answered after the rollup was built: the incremental refresh picks it up.
    waiting = session.exec(select(Escalation).where(Escalation.status == "open")).first()
    assert waiting is not None
    esc.record_response(session, waiting, action="acknowledge")
    session.commit()
    changed = _direct(session, monkeypatch)
    assert changed != direct
    rollup.refresh(session)
    session.commit()
    assert _via_rollup(session) == changed


def test_median_of_counts() -> None:
    assert em.median_of({}) is None
    assert em.median_of({3: 1}) == 3
    assert em.median_of({1: 1, 5: 1}) == 3
    assert em.median_of({1: 2, 9: 1}) == 1
    assert em.median_of({0: 5, 2: 5}) == 1
    assert em.median_of({0: 5, 2: 6}) == 2


def test_every_report_column_the_rollup_reads_bumps_updated_at(session: Session, seeded, controlled_clock,  # type: ignore[no-untyped-def]  # noqa: F811
                                                                engine) -> None:
    """The columns in the rollup's SQL are the ones a change of which bumps updated_at (service/reports/models.py)."""
    make_case(session)
    session.commit()
    statements: list[str] = []

    def capture(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", capture)
    try:
        rollup.rebuild(session)
        session.commit()
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    read = {c for s in statements if "report_rollup" in s for c in re.findall(r"\breport\.(\w+)", s)}
    assert {"status", "created_at", "satisfaction", "due_at", "first_response_at"} <= read
    assert read - {"id"} <= AGGREGATED, read - AGGREGATED
    # And the bump itself: an ORM change of each aggregated column moves updated_at.
    report = session.exec(select(Report)).first()
    assert report is not None
    cluster = ReportCluster(label="bump")
    session.add(cluster)
    other_org = Organisation(slug="bump-org", name="Bump", time_zone="Africa/Johannesburg")
    session.add(other_org)
    session.commit()
    for name in sorted(AGGREGATED - {"created_at", "place_id", "channel"}):
        clock.advance(timedelta(minutes=1))
        stamp = report.updated_at
        value = {"status": "triaged" if report.status != "triaged" else "received", "category": "other",
                 "urgency": "high" if report.urgency != "high" else "normal", "population": "tb",
                 "satisfaction": "yes" if report.satisfaction != "yes" else "no",
                 "cluster_id": cluster.id, "org_id": other_org.id}.get(name, clock.now())
        setattr(report, name, value)
        session.add(report)
        session.commit()
        assert report.updated_at > stamp, name
    # Not an aggregated field: no bump (retention's narrative purge must not force a full rebuild).
    stamp = report.updated_at
    clock.advance(timedelta(minutes=1))
    report.narrative_sealed = None
    report.assisted = not report.assisted
    session.add(report)
    session.commit()
    assert report.updated_at == stamp
    # A body's answer reaches the report even though only the escalation row changes.
    case = make_case(session)
    escalation = esc.escalate(session, case, actor="handler")
    session.commit()
    clock.advance(timedelta(minutes=1))
    stamp = session.get(Report, case.id).updated_at  # type: ignore[union-attr]
    escalation.response_masked = "seen"
    session.add(escalation)
    session.commit()
    session.expire_all()
    assert session.get(Report, case.id).updated_at > stamp  # type: ignore[union-attr]
