"""Aggregates for the dashboard, the public page, exports and DHIS2. Plain functions, session first.

Every query is one GROUP BY over the report table, filtered on indexed columns
(`created_at`, `place_id`, and the dimension columns, all indexed). Counts here are the
raw, private numbers: anything that leaves the platform goes through
`service.analytics.suppression` first (see `service.analytics.publish`).

Withdrawn reports (the reporter took them back) and duplicates (counted in their
original) are left out of every figure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

from sqlalchemy import and_, case, func, literal_column, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from service.analytics import localday
from service.analytics.models import AnalyticsState, ReportRollup
from service.kit.clock import now as _now
from service.places.models import Place
from service.reports.models import CATEGORIES, CHANNELS, POPULATIONS, URGENCIES, Report, ReportCluster

EXCLUDED_STATUSES = ("withdrawn", "duplicate")
OPEN_STATUSES = ("received", "triaged", "in_progress", "escalated", "responded")
RESOLVED_STATUSES = ("resolved", "closed")
DIMENSIONS: dict[str, tuple[str, ...]] = {
    "category": CATEGORIES,
    "urgency": URGENCIES,
    "channel": CHANNELS,
    "population": POPULATIONS,
}
UNKNOWN = "unknown"
PERIODS = ("week", "month", "quarter")
# Hours-to-event buckets for the response-time charts.
HOUR_BUCKETS = ((24, "under_1_day"), (72, "1_3_days"), (168, "3_7_days"), (720, "7_30_days"))
HOUR_BUCKET_LAST = "over_30_days"


class UnknownDimension(ValueError):
    pass


@dataclass(frozen=True)
class Filters:
    """What to count: a time window [since, until) and optionally a place subtree and one dimension value.

    With `local` (the default) the window is on each report's local wall clock, in the zone of the
    organisation handling it (service/analytics/localday.py): since=1 January 00:00 counts a report made
    at 02:00 on 1 January in Phnom Penh (18:00 UTC the day before). Periods (week, month, quarter) are
    local too. `local=False` compares the instants in UTC."""

    since: datetime | None = None
    until: datetime | None = None
    place_id: int | None = None
    category: str | None = None
    org_id: int | None = None
    local: bool = True


def quarter_window(year: int, quarter: int) -> tuple[datetime, datetime]:
    """[start, end) of a calendar quarter: wall-clock bounds (each report's local quarter with Filters.local)."""
    start = datetime(year, 3 * (quarter - 1) + 1, 1, tzinfo=timezone.utc)
    end = datetime(year + (quarter == 4), (3 * quarter) % 12 + 1, 1, tzinfo=timezone.utc)
    return start, end


# -- places ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlaceNode:
    id: int
    code: str
    kind: str
    name_en: str
    name_km: str
    parent_id: int | None


class PlaceTree:
    """The place table in memory (a few hundred rows): parents, children, the province of a place."""

    def __init__(self, places: list[PlaceNode]) -> None:
        self.by_id = {p.id: p for p in places}
        self.children: dict[int | None, list[PlaceNode]] = {}
        for p in places:
            self.children.setdefault(p.parent_id, []).append(p)
        for kids in self.children.values():
            kids.sort(key=lambda p: p.name_en)

    def subtree_ids(self, place_id: int) -> list[int]:
        out, stack = [], [place_id]
        while stack:
            pid = stack.pop()
            out.append(pid)
            stack.extend(c.id for c in self.children.get(pid, []))
        return out

    def ancestor_under(self, place_id: int | None, parent_id: int | None) -> PlaceNode | None:
        """The child of `parent_id` on the way from the root to `place_id` (itself if a direct child)."""
        node = self.by_id.get(place_id) if place_id is not None else None
        while node is not None:
            if node.parent_id == parent_id:
                return node
            node = self.by_id.get(node.parent_id) if node.parent_id is not None else None
        return None

    def provinces(self) -> list[PlaceNode]:
        return sorted((p for p in self.by_id.values() if p.kind == "province"), key=lambda p: p.code)

    def province_of(self, place_id: int | None) -> PlaceNode | None:
        node = self.by_id.get(place_id) if place_id is not None else None
        while node is not None and node.kind != "province":
            node = self.by_id.get(node.parent_id) if node.parent_id is not None else None
        return node

    def path(self, place_id: int) -> list[PlaceNode]:
        out, node = [], self.by_id.get(place_id)
        while node is not None:
            out.append(node)
            node = self.by_id.get(node.parent_id) if node.parent_id is not None else None
        return list(reversed(out))


def place_tree(session: Session) -> PlaceTree:
    """The place tree, cached per database for the process (places change only on a reload)."""
    rows = session.execute(
        select(
            col(Place.id),
            col(Place.code),
            col(Place.kind),
            col(Place.name_en),
            col(Place.name_km),
            col(Place.parent_id),
        )
    ).all()
    return _tree_cached(tuple(tuple(r) for r in rows))


@lru_cache(maxsize=4)
def _tree_cached(rows: tuple[tuple, ...]) -> PlaceTree:
    return PlaceTree([PlaceNode(*r) for r in rows])


# -- SQL pieces ------------------------------------------------------------------------------------


def _where(session: Session, filters: Filters) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = [col(Report.status).not_in(EXCLUDED_STATUSES)]
    if filters.local:
        conds += localday.window_conditions(session, filters.since, filters.until)
    else:
        if filters.since is not None:
            conds.append(col(Report.created_at) >= filters.since)
        if filters.until is not None:
            conds.append(col(Report.created_at) < filters.until)
    if filters.place_id is not None:
        conds.append(col(Report.place_id).in_(place_tree(session).subtree_ids(filters.place_id)))
    if filters.category is not None:
        conds.append(col(Report.category) == filters.category)
    if filters.org_id is not None:
        conds.append(col(Report.org_id) == filters.org_id)
    return conds


def _period_expr(session: Session, period: str, local: bool = True) -> ColumnElement[str]:
    """The report's week (Monday, YYYY-MM-DD), month (YYYY-MM) or quarter (YYYY-Qn), as text: on its
    local wall clock (localday.py), or in UTC with local=False."""
    if local:
        return localday.period(session, period)
    col = Report.created_at
    if session.get_bind().dialect.name == "postgresql":
        utc = func.timezone("UTC", col)
        if period == "week":
            return func.to_char(func.date_trunc("week", utc), "YYYY-MM-DD")
        if period == "quarter":
            return func.to_char(utc, 'YYYY-"Q"Q')
        return func.to_char(utc, "YYYY-MM")
    if period == "week":  # SQLite stores UTC text; back to the Monday
        return func.date(col, "-6 days", "weekday 1")
    if period == "quarter":
        return (
            func.strftime("%Y", col)
            .concat("-Q")
            .concat(literal_column("((CAST(strftime('%m', report.created_at) AS INTEGER) + 2) / 3)"))
        )
    return func.strftime("%Y-%m", col)


def _hours(session: Session, later: Any, earlier: Any) -> ColumnElement[Any]:
    """Hours from `earlier` to `later` (columns or SQL expressions of datetimes)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", later - earlier) / 3600.0
    return (func.julianday(later) - func.julianday(earlier)) * 24.0


def _dimension(by: str) -> ColumnElement[str]:
    if by not in DIMENSIONS and by != "status":
        raise UnknownDimension(by)
    return func.coalesce(getattr(Report, by), UNKNOWN)


def period_labels(since: datetime, until: datetime, period: str) -> list[str]:
    """Every period label in [since, until), so empty periods show as zero rather than vanish."""
    labels: list[str] = []
    day = since.date()
    end = (until - timedelta(microseconds=1)).date()
    if period == "week":
        day -= timedelta(days=day.weekday())
        while day <= end:
            labels.append(day.isoformat())
            day += timedelta(days=7)
        return labels
    month = date(day.year, day.month, 1)
    while month <= end:
        label = f"{month.year}-Q{(month.month + 2) // 3}" if period == "quarter" else f"{month.year}-{month.month:02d}"
        if label not in labels:
            labels.append(label)
        month = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    return labels


# -- the rollup path (service/analytics/rollup.py) -------------------------------------------------

_NO = object()


def _rollup_scope(session: Session, filters: Filters) -> object:
    """The province id to filter on (None: all), or _NO when the rollup cannot answer these filters."""
    if filters.category is not None or filters.org_id is not None or not filters.local:
        return _NO
    for bound in (filters.since, filters.until):
        if bound is not None and (bound.hour, bound.minute, bound.second, bound.microsecond) != (0, 0, 0, 0):
            return _NO
    province = None
    if filters.place_id is not None:
        node = place_tree(session).by_id.get(filters.place_id)
        if node is None or node.kind != "province":
            return _NO
        province = node.id
    state = session.get(AnalyticsState, "rollup")
    if state is None or state.at is None:
        return _NO
    return province


def _rollup_period(session: Session, period: str) -> ColumnElement[str]:
    col = ReportRollup.day
    if session.get_bind().dialect.name == "postgresql":
        if period == "week":
            return func.to_char(func.date_trunc("week", col), "YYYY-MM-DD")
        if period == "quarter":
            return func.to_char(col, 'YYYY-"Q"Q')
        return func.to_char(col, "YYYY-MM")
    if period == "week":
        return func.date(col, "-6 days", "weekday 1")
    if period == "quarter":
        return (
            func.strftime("%Y", col)
            .concat("-Q")
            .concat(literal_column("((CAST(strftime('%m', report_rollup.day) AS INTEGER) + 2) / 3)"))
        )
    return func.strftime("%Y-%m", col)


def _rollup_rows(session: Session, filters: Filters, province: object, dim: str, *keys: Any) -> Sequence[Any]:
    """SUM(n), SUM(hours_sum) grouped by `keys` over the rollup rows of one dimension."""
    conds = [col(ReportRollup.dim) == dim]
    if filters.since is not None:
        conds.append(col(ReportRollup.day) >= filters.since.date())
    if filters.until is not None:
        conds.append(col(ReportRollup.day) < filters.until.date())
    if province is not None:
        conds.append(col(ReportRollup.province_id) == province)
    # Core rows, not ORM ones: some dimensions return tens of thousands of groups.
    return (
        session.connection()
        .execute(
            select(*keys, func.sum(ReportRollup.n), func.sum(ReportRollup.hours_sum))
            .where(and_(*conds))
            .group_by(*keys)
        )
        .all()
    )


# -- aggregates ------------------------------------------------------------------------------------


@dataclass
class Series:
    """Counts per period for each value of one dimension."""

    periods: list[str]
    values: list[str]
    counts: dict[str, list[int]]  # value -> one count per period

    def table(self) -> list[list[int]]:
        """Rows = values, columns = periods (the shape suppression takes)."""
        return [self.counts[v] for v in self.values]


def reports_over_time(session: Session, *, by: str = "category", period: str = "month", filters: Filters) -> Series:
    """Reports per week/month/quarter, split by a dimension (category, urgency, channel, population, status)."""
    if period not in PERIODS:
        raise UnknownDimension(period)
    dim = _dimension(by)
    scope = _rollup_scope(session, filters) if by in DIMENSIONS else _NO
    if scope is not _NO:
        bucket = _rollup_period(session, period).label("p")
        rows: Sequence[Any] = [
            (p, v, n) for p, v, n, _ in _rollup_rows(session, filters, scope, by, bucket, ReportRollup.value)
        ]
    else:
        bucket = _period_expr(session, period, filters.local).label("p")
        rows = session.execute(
            select(bucket, dim.label("v"), func.count()).where(and_(*_where(session, filters))).group_by(bucket, dim)
        ).all()
    if filters.since is not None and filters.until is not None:
        periods = period_labels(filters.since, filters.until, period)
    else:
        periods = sorted({str(r[0]) for r in rows})
    known = list(DIMENSIONS.get(by, ()))
    seen = sorted({str(r[1]) for r in rows} - set(known))
    values = [v for v in known if any(str(r[1]) == v for r in rows)] + seen if not known else known + seen
    index = {p: i for i, p in enumerate(periods)}
    counts = {v: [0] * len(periods) for v in values}
    for p, v, n in rows:
        if str(p) in index:
            counts[str(v)][index[str(p)]] += int(n)
    return Series(periods, values, counts)


def counts_by(session: Session, *, by: str, filters: Filters) -> dict[str, int]:
    """Totals per value of one dimension (all known values present, zero when none)."""
    dim = _dimension(by)
    scope = _rollup_scope(session, filters) if by in DIMENSIONS else _NO
    if scope is not _NO:
        rows: Sequence[Any] = [(v, n) for v, n, _ in _rollup_rows(session, filters, scope, by, ReportRollup.value)]
    else:
        rows = session.execute(select(dim, func.count()).where(and_(*_where(session, filters))).group_by(dim)).all()
    out = {v: 0 for v in DIMENSIONS.get(by, ())}
    for v, n in rows:
        out[str(v)] = out.get(str(v), 0) + int(n)
    return out


@dataclass
class PlaceCount:
    place: PlaceNode | None  # None: reports with no place
    total: int
    open: int
    resolved: int


def by_place(session: Session, *, parent_id: int | None = None, filters: Filters) -> list[PlaceCount]:
    """Drill-down: counts for each child of `parent_id` (provinces when None), their subtrees rolled up."""
    tree = place_tree(session)
    is_open = func.sum(case((col(Report.status).in_(OPEN_STATUSES), 1), else_=0))
    is_res = func.sum(case((col(Report.status).in_(RESOLVED_STATUSES), 1), else_=0))
    scoped = Filters(filters.since, filters.until, parent_id, filters.category, filters.org_id, filters.local)
    scope = _rollup_scope(session, scoped) if parent_id is None else _NO
    if scope is not _NO:
        grouped: dict[int, list[int]] = {}
        for pid, value, n, _ in _rollup_rows(
            session, scoped, None, "status_group", ReportRollup.province_id, ReportRollup.value
        ):
            entry = grouped.setdefault(int(pid), [0, 0, 0])
            entry[0] += int(n)
            entry[1] += int(n) if value == "open" else 0
            entry[2] += int(n) if value == "resolved" else 0
        rows: Sequence[Any] = [(pid or None, *v) for pid, v in grouped.items()]
    else:
        rows = session.execute(
            select(col(Report.place_id), func.count(), is_open, is_res)
            .where(and_(*_where(session, scoped)))
            .group_by(col(Report.place_id))
        ).all()
    pick: Callable[[int | None], PlaceNode | None]
    if parent_id is None:
        children = tree.provinces()
        pick = tree.province_of
    else:
        children = tree.children.get(parent_id, [])

        def pick(pid: int | None) -> PlaceNode | None:
            return tree.ancestor_under(pid, parent_id)

    out = {c.id: PlaceCount(c, 0, 0, 0) for c in children}
    here = PlaceCount(None, 0, 0, 0)  # placed at the parent itself, or not placed at all
    for pid, n, o, r in rows:
        node = pick(pid)
        target = out.get(node.id) if node is not None else None
        target = target or here
        target.total += int(n)
        target.open += int(o or 0)
        target.resolved += int(r or 0)
    result = list(out.values())
    if here.total:
        result.append(here)
    return result


def open_vs_resolved(session: Session, *, period: str = "month", filters: Filters) -> Series:
    """Per period: reports still open, resolved or closed, and ended otherwise (rejected)."""
    group = case(
        (col(Report.status).in_(OPEN_STATUSES), "open"),
        (col(Report.status).in_(RESOLVED_STATUSES), "resolved"),
        else_="other",
    )
    scope = _rollup_scope(session, filters)
    if scope is not _NO:
        bucket = _rollup_period(session, period).label("p")
        rows: Sequence[Any] = [
            (p, v, n)
            for p, v, n, _ in _rollup_rows(session, filters, scope, "status_group", bucket, ReportRollup.value)
        ]
    else:
        bucket = _period_expr(session, period, filters.local).label("p")
        rows = session.execute(
            select(bucket, group, func.count()).where(and_(*_where(session, filters))).group_by(bucket, group)
        ).all()
    periods = (
        period_labels(filters.since, filters.until, period)
        if filters.since and filters.until
        else sorted({str(r[0]) for r in rows})
    )
    index = {p: i for i, p in enumerate(periods)}
    values = ["open", "resolved", "other"]
    counts = {v: [0] * len(periods) for v in values}
    for p, g, n in rows:
        if str(p) in index:
            counts[str(g)][index[str(p)]] += int(n)
    return Series(periods, values, counts)


@dataclass
class Timing:
    """How long reports waited: average hours and a histogram of buckets."""

    measured: int
    average_hours: float | None
    buckets: dict[str, int]


def _timing(session: Session, later: Any, filters: Filters, dim: str = "") -> Timing:
    scope = _rollup_scope(session, filters) if dim else _NO
    if scope is not _NO:
        found = _rollup_rows(session, filters, scope, dim, ReportRollup.value)
        return _timing_from([(v, n, h) for v, n, h in found])
    hours = _hours(session, later, Report.created_at)
    whens = [(hours < limit, label) for limit, label in HOUR_BUCKETS]
    bucket = case(*whens, else_=HOUR_BUCKET_LAST)
    conds = [*_where(session, filters), later.is_not(None)]
    rows = session.execute(select(bucket, func.count(), func.sum(hours)).where(and_(*conds)).group_by(bucket)).all()
    return _timing_from(rows)


def _timing_from(rows: Sequence[Any]) -> Timing:
    buckets = {label: 0 for _, label in HOUR_BUCKETS} | {HOUR_BUCKET_LAST: 0}
    total, hours_sum = 0, 0.0
    for label, n, s in rows:
        buckets[str(label)] = int(n)
        total += int(n)
        hours_sum += float(s or 0)
    return Timing(total, round(hours_sum / total, 1) if total else None, buckets)


def time_to_first_response(session: Session, *, filters: Filters) -> Timing:
    return _timing(session, Report.first_response_at, filters, "first_response")


def time_to_resolution(session: Session, *, filters: Filters) -> Timing:
    return _timing(session, Report.resolved_at, filters, "resolution")


def deadline_compliance(session: Session, *, filters: Filters) -> dict[str, int]:
    """Cases with a deadline: met (resolved or first response by then), missed, still running.

    A deadline that passed with no answer is missed from that moment (the queue marks the case
    overdue then too), not only once a late answer arrives. That part depends on the clock, not on
    the rows, so the rollup keeps such cases as "pending" and they are moved to "missed" live here
    (`_passed_unanswered`: one count over the unanswered cases whose deadline has passed)."""
    scope = _rollup_scope(session, filters)
    if scope is not _NO:
        found = _rollup_rows(session, filters, scope, "deadline", ReportRollup.value)
        out = {"met": 0, "missed": 0, "pending": 0} | {str(k): int(n) for k, n, _ in found}
        passed = min(_passed_unanswered(session, filters), out["pending"])
        return out | {"missed": out["missed"] + passed, "pending": out["pending"] - passed}
    met_at = func.coalesce(Report.first_response_at, Report.resolved_at)
    outcome = case(
        (and_(met_at.is_not(None), met_at <= Report.due_at), "met"),
        (met_at.is_not(None), "missed"),
        (col(Report.due_at) <= _now(), "missed"),
        else_="pending",
    )
    rows = session.execute(
        select(outcome, func.count())
        .where(and_(*_where(session, filters), col(Report.due_at).is_not(None)))
        .group_by(outcome)
    ).all()
    out = {"met": 0, "missed": 0, "pending": 0}
    for k, n in rows:
        out[str(k)] += int(n)
    return out


def _passed_unanswered(session: Session, filters: Filters) -> int:
    """Cases in the filters whose deadline has passed with no first response and no resolution."""
    stmt = (
        select(func.count())
        .select_from(Report)
        .where(
            and_(
                *_where(session, filters),
                col(Report.due_at).is_not(None),
                col(Report.due_at) <= _now(),
                col(Report.first_response_at).is_(None),
                col(Report.resolved_at).is_(None),
            )
        )
    )
    return int(session.execute(stmt).scalar_one())


def satisfaction(session: Session, *, filters: Filters) -> dict[str, int]:
    """Reporters' answers at closure: yes, partly, no (and closed without an answer)."""
    scope = _rollup_scope(session, filters)
    if scope is not _NO:
        found = _rollup_rows(session, filters, scope, "satisfaction", ReportRollup.value)
        return {"yes": 0, "partly": 0, "no": 0, "no_answer": 0} | {str(k): int(n) for k, n, _ in found}
    answer = func.coalesce(Report.satisfaction, "no_answer")
    conds = [*_where(session, filters), col(Report.status).in_(RESOLVED_STATUSES)]
    rows = session.execute(select(answer, func.count()).where(and_(*conds)).group_by(answer)).all()
    return {"yes": 0, "partly": 0, "no": 0, "no_answer": 0} | {str(k): int(n) for k, n in rows}


@dataclass
class ClusterRow:
    id: int
    category: str | None
    place: PlaceNode | None
    size: int
    systemic: bool
    label: str
    last_report_at: datetime | None


def active_clusters(
    session: Session, *, filters: Filters, limit: int = 10, systemic_only: bool = False
) -> list[ClusterRow]:
    """Clusters with reports in the window, biggest first: possible systemic problems."""
    tree = place_tree(session)
    scope = _rollup_scope(session, filters)
    if scope is not _NO:
        return _active_clusters_from_rollup(session, filters, scope, tree, limit=limit, systemic_only=systemic_only)
    # Start from the clusters (few) so the planner uses report.cluster_id's index, not a date scan.
    cluster_ids = [cid for (cid,) in session.execute(select(col(ReportCluster.id))).all()]
    if not cluster_ids:
        return []
    n = func.count(col(Report.id))
    q = (
        select(
            col(ReportCluster.id),
            col(ReportCluster.category),
            col(ReportCluster.place_id),
            n,
            col(ReportCluster.systemic),
            col(ReportCluster.label),
            func.max(Report.created_at),
        )
        .join(Report, col(Report.cluster_id) == ReportCluster.id)
        .where(and_(col(Report.cluster_id).in_(cluster_ids), *_where(session, filters)))
        .group_by(
            col(ReportCluster.id),
            col(ReportCluster.category),
            col(ReportCluster.place_id),
            col(ReportCluster.systemic),
            col(ReportCluster.label),
        )
        .order_by(n.desc(), col(ReportCluster.id))
        .limit(limit)
    )
    if systemic_only:
        q = q.where(col(ReportCluster.systemic).is_(True))
    out = []
    for cid, cat, pid, size, systemic, label, last in session.execute(q).all():
        if isinstance(last, str):
            last = datetime.fromisoformat(last).replace(tzinfo=timezone.utc)
        out.append(ClusterRow(cid, cat, tree.by_id.get(pid) if pid else None, int(size), bool(systemic), label, last))
    return out


def _active_clusters_from_rollup(
    session: Session, filters: Filters, province: object, tree: PlaceTree, *, limit: int, systemic_only: bool
) -> list[ClusterRow]:
    """active_clusters from the rollup's `cluster` dimension: sizes per cluster in the window, then the
    few biggest clusters' details and latest report (each a short read of report.cluster_id's index)."""
    sizes = {int(v): int(n) for v, n, _ in _rollup_rows(session, filters, province, "cluster", ReportRollup.value) if n}
    if not sizes:
        return []
    systemic = set(
        session.execute(select(col(ReportCluster.id)).where(col(ReportCluster.systemic).is_(True))).scalars()
    )
    ranked = sorted((cid for cid in sizes if not systemic_only or cid in systemic), key=lambda c: (-sizes[c], c))
    top = ranked[:limit]
    if not top:
        return []
    clusters = {c.id: c for c in session.execute(select(ReportCluster).where(col(ReportCluster.id).in_(top))).scalars()}
    latest: dict[int | None, Any] = dict(
        session.execute(
            select(col(Report.cluster_id), func.max(Report.created_at))
            .where(and_(col(Report.cluster_id).in_(top), *_where(session, filters)))
            .group_by(col(Report.cluster_id))
        ).all()
    )
    out = []
    for cid in top:
        cluster, last = clusters.get(cid), latest.get(cid)
        if cluster is None:
            continue
        if isinstance(last, str):
            last = datetime.fromisoformat(last).replace(tzinfo=timezone.utc)
        out.append(
            ClusterRow(
                cid,
                cluster.category,
                tree.by_id.get(cluster.place_id) if cluster.place_id else None,
                sizes[cid],
                bool(cluster.systemic),
                cluster.label,
                last,
            )
        )
    return out


# -- hook points for the escalation issue -----------------------------------------------------------
# Body and escalation metrics (escalations by body and level, body response times) need the tables of
# the escalation issue. Each provider takes (session, filters) and returns {"title": ..., "rows": [(label,
# count), ...]} or None; the dashboard, scorecards and the quarterly report show whatever is registered.
BODY_METRICS: list[Callable[[Session, Filters], dict | list[dict] | None]] = []


def register_body_metric(provider: Callable[[Session, Filters], dict | list[dict] | None]) -> None:
    BODY_METRICS.append(provider)


def body_metrics(session: Session, *, filters: Filters) -> list[dict]:
    """Every registered provider's tables (a provider returns one table, a list of them, or None)."""
    out: list[dict] = []
    for provider in BODY_METRICS:
        found = provider(session, filters)
        out.extend(found if isinstance(found, list) else [found] if found else [])
    return out


def total_reports(session: Session, *, filters: Filters) -> int:
    return int(
        session.execute(select(func.count()).select_from(Report).where(and_(*_where(session, filters)))).scalar_one()
    )
