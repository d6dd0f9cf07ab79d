"""Every filter the queue offers is served by an index (EXPLAIN QUERY PLAN / EXPLAIN).

On PostgreSQL the tiny test tables would always be scanned, so the plan is taken with
enable_seqscan off: the question is whether an index *can* serve the query. The benchmark
(bench/review_queue.py, docs/benchmarks.md) shows the planner picks them on a million rows.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from service.kit.clock import now
from service.orgs.service import create_org, create_user
from service.places.models import Place
from service.queue import service as queue
from service.queue.service import Filters
from tests.support.factories import make_report

FILTERS = {
    "none": Filters(),
    "status": Filters(status=("in_progress",)),
    "category": Filters(category="stigma_discrimination"),
    "urgency": Filters(urgency="urgent"),
    "place": Filters(place_id=-1),  # replaced by a real province below
    "channel": Filters(channel="telegram"),
    "population": Filters(population="sex_worker"),
    "assigned_me": Filters(assigned="me"),
    "unassigned": Filters(assigned="unassigned"),
    "overdue": Filters(overdue=True),
    "cluster": Filters(cluster_id=1),
    "q": Filters(q="medicine"),
}


@pytest.fixture
def setup(engine, places):  # type: ignore[no-untyped-def]
    with Session(engine, expire_on_commit=False) as s:
        create_org(s, slug="org-p", name="P")
        admin = create_user(s, email="root@p.test", org_slug=None, role="admin", password="correct-horse-battery")
        user = create_user(s, email="h@p.test", org_slug="org-p", role="handler", password="correct-horse-battery")
        for i in range(20):
            make_report(s, org_id=user.org_id, due_in=timedelta(hours=i) if i % 2 else None)
        province = s.exec(select(Place).where(Place.kind == "province")).first()
        s.commit()
        return user, admin, province.id


def plans(session: Session, user, filters: Filters) -> list[str]:  # type: ignore[no-untyped-def]
    conds = queue.filter_conditions(session, user=user, filters=filters, at=now())
    out = []
    for scope in queue.scope_conditions(session, user):
        for rank, seg in queue._segments(filters):
            out.append(queue.explain(session, queue.segment_statement(base=[*scope, *conds], rank=rank, seg=seg,
                                                                      after=(rank, seg, now(), now(), 1), limit=51)))
    return out


def uses_index(plan: str, dialect: str) -> bool:
    if dialect == "sqlite":
        report_lines = [line for line in plan.splitlines() if " report " in f" {line} " or line.endswith(" report")]
        return bool(report_lines) and all("USING" in line for line in report_lines) and \
            not any(line.startswith("SCAN report") and "INDEX" not in line for line in report_lines)
    return "Seq Scan on report" not in plan and "Index" in plan


@pytest.mark.parametrize("name", list(FILTERS))
@pytest.mark.parametrize("who", ["handler", "platform_admin"])
def test_every_filter_is_served_by_an_index(engine, setup, name, who) -> None:
    user, admin, province = setup
    filters = FILTERS[name] if name != "place" else Filters(place_id=province)
    with Session(engine) as s:
        dialect = s.get_bind().dialect.name
        for plan in plans(s, user if who == "handler" else admin, filters):
            assert uses_index(plan, dialect), f"{name}: {plan}"


def test_the_plain_queue_never_sorts(engine, setup) -> None:
    user, admin, _ = setup
    with Session(engine) as s:
        if s.get_bind().dialect.name != "sqlite":
            pytest.skip("PostgreSQL: the benchmark shows the sort-free plan on a million rows")
        for who in (user, admin):
            for plan in plans(s, who, Filters()) + plans(s, who, Filters(urgency="urgent")):
                assert "TEMP B-TREE" not in plan, plan


OWN_INDEX = {"category": "ix_report_org_category", "channel": "ix_report_org_channel",
             "population": "ix_report_org_population", "place": "ix_report_org_place",
             "cluster": "ix_report_org_cluster"}


@pytest.mark.parametrize("name", list(OWN_INDEX))
def test_view_counts_read_by_the_filters_own_index(engine, setup, name) -> None:
    """The counts fragment reads up to 2,000 rows of the view; with a filter that has an index of its
    own, that index serves the read (not the status index, which would walk other places' cases)."""
    from dataclasses import replace

    user, _, province = setup
    filters = FILTERS[name] if name != "place" else Filters(place_id=province)
    relaxed = replace(filters, status=queue.OPEN_STATUSES)
    sqlite = engine.dialect.name == "sqlite"
    with Session(engine) as s:
        for scope in queue.scope_conditions(s, user):
            plan = queue.explain(s, queue.view_statement(s, user=user, relaxed=relaxed, scope=scope, at=now(),
                                                         limit=2001))
            assert uses_index(plan, engine.dialect.name), plan
            if sqlite:
                assert OWN_INDEX[name] in plan, plan
        # On SQLite the status test must not be able to take an index at all: on the benchmark's
        # million cases, with ANALYZE's sampled statistics, the planner preferred the status index
        # (a province's counts read 50 ms instead of 9). A tiny test table does not reproduce that
        # choice, so the statement is checked for the form that rules it out.
        if sqlite:
            assert "report.status || " in str(queue.view_statement(s, user=user, relaxed=relaxed, scope=[],
                                                                   at=now(), limit=1).compile(engine))
