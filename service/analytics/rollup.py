"""The pre-aggregated table behind the dashboard: report_rollup.

One row per (local creation day, province, dimension, value) with a count (and, for the two
timing dimensions, the sum of hours). A million reports over two years make ~300k rows;
a chart reads a few thousand of them instead of scanning the report table.

The day is the report's LOCAL day, in the zone of the organisation handling it, else the
platform's zone (service/analytics/localday.py): a report at 02:00 on 1 January in Phnom Penh is
in 1 January's rows. Kept up to date incrementally: `refresh(session)` finds the UTC creation days
of every report changed since the last refresh (`report.updated_at`, indexed; five minutes of
overlap for transactions that committed late), deletes the rows of those days and their neighbours
(a local day is within one day of the UTC day) and aggregates them again from `report`. An
organisation's zone change forgets the rollup (`invalidate`); the next worker pass rebuilds it. Called
* by the pages before they read (at most once a minute, incremental only: `refresh_if_stale`),
* by `samleng analytics refresh [--full]` (first build, cron, or after a bulk import),
* and by the worker (service/analytics/tasks.py: `refresh(session)`, at most once a minute).
The body metrics (service/analytics/escalations.py) are rolled up the same way, by their
report's creation day and province: dimensions `esc_body` (escalations per body),
`esc_deadline` (settled escalations per body: on time / late / void) and `esc_hours` (answered
escalations per body and whole hours to the answer, for an exact median). Dimension `cluster`
counts reports per cluster, for the dashboard's possible systemic problems.
Every ORM change to a field aggregated here bumps `report.updated_at` at flush time, whatever
the write path (service/reports/models.py, `AGGREGATED`), and every change to an escalation bumps its report
(service/escalation/models.py); a bulk Core UPDATE must bump it itself.
Queries use the rollup only once it has been built (a row in analytics_state) and only for
filters it can answer (whole days; all places or one province; no category or org filter);
anything else reads `report` directly.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Date, String, and_, case, cast, delete, func, insert, literal, select, text
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from service.analytics import escalations, localday, queries as q
from service.analytics.models import AnalyticsState, ReportRollup
from service.kit.clock import now
from service.escalation.models import Escalation
from service.places.models import Place
from service.reports.models import Report

log = logging.getLogger(__name__)

STATE_KEY = "rollup"
OVERLAP = timedelta(minutes=5)
STALE_AFTER = timedelta(seconds=60)
MAX_INCREMENTAL_DAYS = 60
TIMING_DIMS = {"first_response": col(Report.first_response_at), "resolution": col(Report.resolved_at)}


def _day(session: Session):
    """The report's local day: in the zone of the organisation handling it (service/analytics/localday.py)."""
    return localday.local_day(session)


def _utc_day(session: Session):
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone("UTC", Report.created_at), Date)
    return func.date(Report.created_at)


def _province():
    p1, p2, p3 = aliased(Place), aliased(Place), aliased(Place)
    expr = case((p1.kind == "province", p1.id), (p2.kind == "province", p2.id), (p3.kind == "province", p3.id), else_=0)
    return expr, p1, p2, p3


def _value_exprs(session: Session) -> dict[str, tuple[Any, list, Any]]:
    """dim -> (value expression, extra conditions, hours expression or 0)."""
    out: dict[str, tuple[Any, list, Any]] = {}
    for dim in q.DIMENSIONS:
        out[dim] = (func.coalesce(getattr(Report, dim), q.UNKNOWN), [], literal(0.0))
    out["status_group"] = (
        case(
            (col(Report.status).in_(q.OPEN_STATUSES), "open"),
            (col(Report.status).in_(q.RESOLVED_STATUSES), "resolved"),
            else_="other",
        ),
        [],
        literal(0.0),
    )
    for dim, later in TIMING_DIMS.items():
        hours = q._hours(session, later, Report.created_at)
        bucket = case(*[(hours < limit, label) for limit, label in q.HOUR_BUCKETS], else_=q.HOUR_BUCKET_LAST)
        out[dim] = (bucket, [later.is_not(None)], hours)
    out["satisfaction"] = (
        func.coalesce(Report.satisfaction, "no_answer"),
        [col(Report.status).in_(q.RESOLVED_STATUSES)],
        literal(0.0),
    )
    # Reports per cluster (possible systemic problems): the dashboard's top clusters in a window.
    out["cluster"] = (cast(Report.cluster_id, String), [col(Report.cluster_id).is_not(None)], literal(0.0))
    met_at = func.coalesce(Report.first_response_at, Report.resolved_at)
    out["deadline"] = (
        case(
            (and_(met_at.is_not(None), met_at <= Report.due_at), "met"),
            (met_at.is_not(None), "missed"),
            else_="pending",
        ),
        [col(Report.due_at).is_not(None)],
        literal(0.0),
    )
    return out


def _aggregate(session: Session, conds: list) -> None:
    day = _day(session)
    province, p1, p2, p3 = _province()
    # (dimension, value, conditions, hours summed, counted rows): reports, then the body metrics
    # (service/analytics/escalations.py), escalations counted by their report's day and province.
    sources: list[tuple[str, Any, list, Any, type[Report] | type[Escalation]]]
    sources = [
        (dim, value, extra, func.coalesce(func.sum(hours), 0.0), Report)
        for dim, (value, extra, hours) in _value_exprs(session).items()
    ]
    sources += [
        (dim, value, extra, literal(0.0), Escalation)
        for dim, (value, extra) in escalations.rollup_sources(session).items()
    ]
    for dim, value, extra, hours_sum, counted in sources:
        source = select(day, province, literal(dim), value, func.count(), hours_sum)
        source = (
            source.select_from(Report)
            if counted is Report
            else source.select_from(Escalation).join(Report, col(Report.id) == Escalation.report_id)
        )
        source = (
            source.outerjoin(p1, p1.id == Report.place_id)
            .outerjoin(p2, p2.id == p1.parent_id)
            .outerjoin(p3, p3.id == p2.parent_id)
            .where(and_(col(Report.status).not_in(q.EXCLUDED_STATUSES), *conds, *extra))
            .group_by(day, province, value)
        )
        session.execute(
            insert(ReportRollup).from_select(["day", "province_id", "dim", "value", "n", "hours_sum"], source)
        )


def _lock(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext('samleng_report_rollup'))"))


def rebuild(session: Session) -> None:
    """Recompute the whole rollup (first build, or after a bulk change)."""
    _lock(session)
    started = now()
    session.execute(delete(ReportRollup))
    _aggregate(session, [])
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ANALYZE report_rollup"))  # the table was replaced: plan on fresh statistics
    _mark(session, started)


def refresh(session: Session, *, full_allowed: bool = True) -> int:
    """Bring the rollup up to date; returns the number of days recomputed (-1 for a full rebuild).

    With full_allowed=False (the pages) a first build or a change spanning more than
    MAX_INCREMENTAL_DAYS is left to `samleng analytics refresh` / the worker: on SQLite a full
    rebuild of a million reports holds the write lock for seconds, which intake must not wait for.
    """
    _lock(session)
    state = session.get(AnalyticsState, STATE_KEY)
    if state is None or state.at is None:
        if not full_allowed:
            return 0
        rebuild(session)
        return -1
    started = now()
    changed = sorted(
        {
            _as_date(d)
            for (d,) in session.execute(
                select(_utc_day(session)).where(col(Report.updated_at) >= state.at - OVERLAP).distinct()
            ).all()
        }
    )
    if len(changed) > MAX_INCREMENTAL_DAYS:
        if not full_allowed:
            log.warning("analytics rollup: %d days changed; run `samleng analytics refresh`", len(changed))
            return 0
        rebuild(session)
        return -1
    # A changed report's local day is its UTC day or a neighbour (zones are within a day of UTC); its
    # local day before the change (another organisation, another zone) too: recompute all three.
    days = sorted({d + timedelta(days=k) for d in changed for k in (-1, 0, 1)})
    day = _day(session)
    for d in days:
        start = datetime(d.year, d.month, d.day, tzinfo=started.tzinfo)
        session.execute(delete(ReportRollup).where(col(ReportRollup.day) == d))
        _aggregate(
            session,
            [Report.created_at >= start - timedelta(days=1), Report.created_at < start + timedelta(days=2), day == d],
        )
    _mark(session, started)
    return len(days)


def invalidate(session: Session) -> None:
    """Forget the rollup (an organisation's zone changed: its reports' local days moved). The pages read
    the report table until the worker's next pass (or `samleng analytics refresh`) rebuilds it."""
    _lock(session)
    session.execute(delete(AnalyticsState).where(col(AnalyticsState.key) == STATE_KEY))
    session.flush()


def refresh_if_stale(session: Session) -> None:
    """Incremental refresh when the rollup exists and is older than a minute (cheap when nothing changed)."""
    state = session.get(AnalyticsState, STATE_KEY)
    if state is not None and state.at is not None and now() - state.at > STALE_AFTER:
        refresh(session, full_allowed=False)


def built(session: Session) -> bool:
    state = session.get(AnalyticsState, STATE_KEY)
    return state is not None and state.at is not None


def _mark(session: Session, at: datetime) -> None:
    state = session.get(AnalyticsState, STATE_KEY) or AnalyticsState(key=STATE_KEY)
    state.at = at
    session.add(state)
    session.flush()


def _as_date(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])
