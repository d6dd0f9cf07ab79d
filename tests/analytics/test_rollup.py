"""The rollup answers exactly as the report table does, and follows changes incrementally."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlmodel import Session, select

from service.analytics import queries as q, rollup
from service.analytics.models import ReportRollup
from service.kit.clock import now
from service.reports.models import CATEGORIES, CHANNELS, POPULATIONS, Report, ReportCluster
from tests.analytics.factories import T0
from tests.support.factories import make_report, place

Q3 = q.quarter_window(2026, 3)


def _everything(session: Session, filters: q.Filters) -> dict:
    out: dict = {}
    for by in q.DIMENSIONS:
        for period in q.PERIODS:
            s = q.reports_over_time(session, by=by, period=period, filters=filters)
            out[f"time {by} {period}"] = (s.periods, s.counts)
        out[f"counts {by}"] = q.counts_by(session, by=by, filters=filters)
    out["places"] = sorted((p.place.code if p.place else "", p.total, p.open, p.resolved)
                           for p in q.by_place(session, filters=filters))
    ovr = q.open_vs_resolved(session, period="week", filters=filters)
    out["ovr"] = (ovr.periods, ovr.counts)
    out["first"] = vars(q.time_to_first_response(session, filters=filters))
    out["resolution"] = vars(q.time_to_resolution(session, filters=filters))
    out["satisfaction"] = q.satisfaction(session, filters=filters)
    out["deadlines"] = q.deadline_compliance(session, filters=filters)
    for systemic in (False, True):
        out[f"clusters {systemic}"] = [(c.id, c.size, c.systemic, c.label, c.place.code if c.place else None,
                                        c.last_report_at) for c in
                                       q.active_clusters(session, filters=filters, systemic_only=systemic)]
    return out


def _seed(session: Session, n: int = 120) -> None:
    rng = random.Random(4)
    codes = ["KH-12", "KH-2-OD-BATTAMBANG", "KH-7", "KH-17", None, "ZA"]
    ids = {c: (place(session, c).id if c else None) for c in codes}
    clusters = [ReportCluster(category=CATEGORIES[k % len(CATEGORIES)], size=2, systemic=k % 3 == 0, label=f"c{k}",
                              place_id=ids["KH-12"] if k % 2 else None) for k in range(14)]
    session.add_all(clusters)
    session.flush()
    for i in range(n):
        created = T0 + timedelta(days=rng.randint(-20, 80), hours=rng.randint(0, 23))
        status = rng.choice(["received", "in_progress", "resolved", "closed", "rejected", "withdrawn"])
        first = created + timedelta(hours=rng.randint(1, 400)) if rng.random() < 0.7 else None
        resolved = created + timedelta(hours=rng.randint(2, 900)) if status in ("resolved", "closed") else None
        make_report(session, at=created, place_id=ids[rng.choice(codes)],
                    category=rng.choice([*CATEGORIES, None]), urgency=rng.choice(["urgent", "high", "normal"]),
                    channel=rng.choice(CHANNELS), population=rng.choice([*POPULATIONS, None]), status=status,
                    first_response_at=first, resolved_at=resolved,
                    satisfaction=rng.choice(["yes", "no", "partly", None]) if status == "closed" else None,
                    due_at=created + timedelta(days=3) if rng.random() < 0.5 else None,
                    cluster_id=rng.choice(clusters).id if rng.random() < 0.4 else None)
    session.commit()


def test_rollup_matches_the_report_table(session: Session, places: None) -> None:
    _seed(session)
    scopes = [q.Filters(*Q3), q.Filters(*Q3, place_id=place(session, "KH-2").id), q.Filters()]
    direct = [_everything(session, f) for f in scopes]
    assert not rollup.built(session)
    rollup.rebuild(session)
    session.commit()
    assert rollup.built(session) and session.exec(select(ReportRollup)).first() is not None
    assert all(q._rollup_scope(session, f) is not q._NO for f in scopes)  # the rollup is what answers now
    assert [_everything(session, f) for f in scopes] == direct
    # Filters the rollup cannot answer go to the table: a district, an hour boundary.
    assert q._rollup_scope(session, q.Filters(place_id=place(session, "KH-2-OD-BATTAMBANG").id)) is q._NO
    assert q._rollup_scope(session, q.Filters(Q3[0] + timedelta(hours=1), Q3[1])) is q._NO


def test_incremental_refresh_follows_changes(session: Session, places: None) -> None:
    _seed(session, 40)
    rollup.refresh_if_stale(session)  # the pages never build it (that would hold SQLite's lock for long)
    assert not rollup.built(session)
    assert rollup.refresh(session) == -1  # first time: full build
    session.commit()
    report = session.exec(select(Report).where(Report.status == "received")).first()
    assert report is not None
    report.status, report.updated_at = "closed", now()
    report.resolved_at, report.satisfaction = report.created_at + timedelta(hours=30), "yes"
    make_report(session, at=T0 + timedelta(days=3), updated_at=now(), category="other")
    session.commit()
    f = q.Filters(*Q3)
    stale = _everything(session, f)
    assert rollup.refresh(session) >= 1
    session.commit()
    fresh = _everything(session, f)
    assert fresh != stale
    session.execute(ReportRollup.__table__.delete())  # type: ignore[attr-defined]
    from service.analytics.models import AnalyticsState

    session.execute(AnalyticsState.__table__.delete())  # type: ignore[attr-defined]
    session.commit()
    assert _everything(session, f) == fresh  # and the table path agrees


def test_cli_refresh(session: Session, places: None, settings, capsys) -> None:  # type: ignore[no-untyped-def]
    from service.cli import main

    _seed(session, 10)
    assert main(["analytics", "refresh"]) == 0
    assert "rebuilt" in capsys.readouterr().out
    assert main(["analytics", "refresh"]) == 0
    assert "day(s) recomputed" in capsys.readouterr().out
    assert main(["analytics", "refresh", "--full"]) == 0
    session.expire_all()
    assert rollup.built(session)
