"""The review queue: which cases a user may see, in what order, filtered, a page at a time.

Order: urgency (urgent, high, normal), then deadline (cases with a due_at first, soonest
first), then age (oldest first), then id. The query walks six segments — (urgency,
has deadline) — each an index range scan in index order, and continues from a keyset
cursor, so a deep page costs what the first page costs and nothing is ever sorted.
"""

from __future__ import annotations

import base64
import functools
import json
import unicodedata
from collections import Counter, namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import bindparam, func, or_, text, tuple_
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from service.auth.principal import Principal
from service.config import get_settings
from service.kit import cache, clock
from service.kit.clock import as_utc
from service.kit.errors import InvalidInput, NotFound
from service.kit.fastsql import FastQuery, id_params, id_slots
from service.kit.models import table_of
from service.orgs.models import Organisation
from service.outbox.models import OutboundMessage
from service.places.models import Place
from service.queue.search_index import MARK_SQL
from service.queue.models import MAX_TAG, CaseTag
from service.reports.models import CATEGORIES, CHANNELS, POPULATIONS, STATUSES, URGENCIES, Report

OPEN_STATUSES = ("received", "triaged", "in_progress", "escalated", "responded")
PAGE_SIZE = 50
COUNT_CAP = 200  # counts above this show as "200+": exact counts on a million rows cost more than the page


@dataclass(frozen=True)
class Filters:
    """What the handler asked to see. Empty `status` means the open cases."""

    status: tuple[str, ...] = ()
    category: str | None = None
    urgency: str | None = None
    place_id: int | None = None
    channel: str | None = None
    population: str | None = None
    assigned: Literal["me", "unassigned"] | None = None
    overdue: bool = False
    cluster_id: int | None = None
    q: str | None = None
    tag: str | None = None  # a tag on the case (service/supervision/tags.py), already normalised

    def validate(self) -> "Filters":
        for value, allowed, name in (
            (self.category, CATEGORIES, "category"),
            (self.urgency, URGENCIES, "urgency"),
            (self.channel, CHANNELS, "channel"),
            (self.population, POPULATIONS, "population"),
        ):
            if value is not None and value not in allowed:
                raise InvalidInput(f"unknown {name}")
        if any(s not in STATUSES and s != "all" for s in self.status):
            raise InvalidInput("unknown status")
        if self.q is not None and len(self.q) > 200:
            raise InvalidInput("search text is too long (200 characters at most)")
        if self.q is not None and "\x00" in self.q:  # PostgreSQL text cannot hold NUL
            raise InvalidInput("search text contains a NUL character")
        if self.tag is not None and (len(self.tag) > 40 or "\x00" in self.tag):
            raise InvalidInput("a tag has at most 40 characters")
        return self


# What a queue row carries (the web list and the API's CaseSummary read exactly these).
LIST_COLUMNS = tuple(
    getattr(Report, name)
    for name in (
        "id",
        "status",
        "category",
        "urgency",
        "channel",
        "population",
        "language",
        "place_id",
        "narrative_masked",
        "created_at",
        "updated_at",
        "due_at",
        "assigned_user_id",
        "cluster_id",
        "org_id",
    )
)
# A row of LIST_COLUMNS: read by position (the JSON list, the web rows) or by name (`row.place_id`).
ListRow = namedtuple("ListRow", [c.key for c in LIST_COLUMNS])  # type: ignore[misc]  # fields named at run time


@dataclass
class QueueItem:
    report: Any  # a Report, or a row of LIST_COLUMNS
    overdue: bool
    place_name_en: str | None = None
    place_name_km: str | None = None


@dataclass
class QueuePage:
    items: list[QueueItem]
    next_cursor: str | None
    filters: Filters = field(default_factory=Filters)


# -- who sees what ---------------------------------------------------------------------------


def visible_orgs(session: Session, user: Principal) -> list[int | None] | None:
    """Organisation ids whose cases the user sees (None inside: unrouted reports); None: everything.

    A platform administrator (role admin, no organisation) sees every case. Reports not yet
    routed to an organisation (org_id NULL) are also seen by the users of the default intake
    organisation, SAMLENG_INTAKE_ORG, when one is configured.
    """
    if user.org_id is None:
        return None if user.role == "admin" else []
    orgs: list[int | None] = [user.org_id]
    intake = get_settings().intake_org
    if intake:
        org = session.get(Organisation, user.org_id)
        if org is not None and org.slug == intake:
            orgs.append(None)
    return orgs


def can_see(session: Session, user: Principal, report: Report) -> bool:
    orgs = visible_orgs(session, user)
    return orgs is None or report.org_id in orgs


def get_case(session: Session, *, user: Principal, report_id: int) -> Report:
    """One case the user may see; NotFound for another organisation's case (no hint that it exists)."""
    report = session.get(Report, report_id)
    if report is None or not can_see(session, user, report):
        raise NotFound("no such case")
    return report


def filter_tag(text: str | None) -> str | None:
    """A tag typed into the queue's filter, written as tags are kept (service/supervision/tags.py
    `normalise_tag`); None: no tag filter."""
    tag = " ".join(unicodedata.normalize("NFC", (text or "").replace("\x00", "")).split()).casefold()
    return tag[:MAX_TAG] or None


def filters_from_query(qp: Mapping[str, str]) -> Filters:
    """The queue's filters from its query string (the queue page's, or a saved view's); unknown values ignored."""

    def one(name: str, allowed: tuple[str, ...]) -> str | None:
        value = qp.get(name) or None
        return value if value in allowed else None

    def number(name: str) -> int | None:
        value = qp.get(name, "")
        return int(value) if value.isdigit() and 0 < int(value) < 2**31 else None

    status = one("status", (*STATUSES, "all"))
    return Filters(
        status=(status,) if status else (),
        category=one("category", CATEGORIES),
        urgency=one("urgency", URGENCIES),
        place_id=number("place_id"),
        channel=one("channel", CHANNELS),
        population=one("population", POPULATIONS),
        assigned=one("assigned", ("me", "unassigned")),  # type: ignore[arg-type]  # one() returns only the listed values
        overdue=qp.get("overdue") == "1",
        cluster_id=number("cluster_id"),
        q=(qp.get("q") or "").replace("\x00", "").strip()[:200] or None,
        tag=filter_tag(qp.get("tag")),
    )


# -- the query -------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1024)
def _scope_condition(org: int | None) -> ColumnElement[bool]:
    # Built once per organisation (an expression is immutable; every queue page asks for its
    # organisation's, and building it cost about a twentieth of the HTML page).
    return col(Report.org_id).is_(None) if org is None else col(Report.org_id) == org


_PLACES_TTL = 300.0
_places_cache = cache.named("queue.place_tree", maxsize=8, ttl=_PLACES_TTL)  # by database


def _place_tree(session: Session) -> tuple[dict[int | None, list[int]], dict[int, tuple[str, str]]]:
    """Children of each place and the names of every place, cached for a few minutes per database
    (places change only when `samleng demo` or a deployment's places file is loaded)."""
    key = str(session.get_bind().engine.url)
    cached = _places_cache.get(key)
    if cached is not None:
        return cached
    children: dict[int | None, list[int]] = {}
    names: dict[int, tuple[str, str]] = {}
    for pid, parent, en, km in session.exec(select(Place.id, Place.parent_id, Place.name_en, Place.name_km)).all():
        assert pid is not None, "a primary key"
        children.setdefault(parent, []).append(pid)
        names[pid] = (en, km)
    _places_cache.put(key, (children, names))
    return children, names


def place_subtree(session: Session, place_id: int) -> list[int]:
    """The place and every place under it (province → districts → health centres)."""
    children, _ = _place_tree(session)
    found, stack = [], [place_id]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(children.get(current, ()))
    return found


def search_condition(session: Session, q: str) -> ColumnElement[bool]:
    """Text search over the masked narrative: SQLite FTS5 (trigram), PostgreSQL pg_trgm ILIKE.

    On SQLite the worker fills the index (service/queue/search_index.py): reports above its
    high-water mark are not in it yet, so that tail (a rowid range) is tested by substring.
    """
    q = q.strip()
    dialect = session.get_bind().dialect.name
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    if dialect == "sqlite" and len(q) >= 3:
        phrase = '"' + q.replace('"', '""') + '"'
        return col(Report.id).in_(
            text(
                "SELECT rowid FROM report_fts WHERE report_fts MATCH :fts_q "
                f"UNION ALL SELECT id FROM report WHERE id > {MARK_SQL} "
                "AND lower(narrative_masked) LIKE lower(:fts_like) ESCAPE '\\'"
            ).bindparams(fts_q=phrase, fts_like=f"%{escaped}%")
        )
    return col(Report.narrative_masked).ilike(f"%{escaped}%", escape="\\")


def filter_conditions(
    session: Session,
    *,
    user: Principal,
    filters: Filters,
    at: datetime,
    include_search: bool = True,
    status_by_index: bool = True,
) -> list[Any]:
    """Every WHERE condition for these filters (without the scope and segment).

    `status_by_index=False` writes the status test so that no index is chosen for it (`status || ''`
    cannot use an index): for the view counts on SQLite, where the organisation's status index
    would otherwise be walked past thousands of other places' cases (view_counts)."""
    # Reports held back by the intake's per-sender limit join the queue when their hour has passed.
    # `at` is the bound parameter "queue_at", so a statement built once can run again at another time.
    at_param = bindparam("queue_at", at, type_=table_of(Report).c.due_at.type)
    conds: list[Any] = [or_(col(Report.deferred_until).is_(None), col(Report.deferred_until) <= at_param)]
    statuses = OPEN_STATUSES if not filters.status else filters.status
    if "all" not in statuses:
        status = col(Report.status) if status_by_index else col(Report.status) + ""
        conds.append(status.in_(statuses) if len(statuses) > 1 else status == statuses[0])
    if filters.category:
        conds.append(col(Report.category) == filters.category)
    if filters.channel:
        conds.append(col(Report.channel) == filters.channel)
    if filters.population:
        conds.append(col(Report.population) == filters.population)
    if filters.place_id is not None:
        conds.append(col(Report.place_id).in_(place_subtree(session, filters.place_id)))
    if filters.assigned == "me":
        conds.append(col(Report.assigned_user_id) == user.id)
    elif filters.assigned == "unassigned":
        conds.append(col(Report.assigned_user_id).is_(None))
    if filters.overdue:
        conds.append(col(Report.due_at) < at_param)
    if filters.cluster_id is not None:
        conds.append(col(Report.cluster_id) == filters.cluster_id)
    if filters.tag:  # the tag's cases in the organisation's tag index, then the queue's own order
        conds.append(col(Report.id).in_(select(CaseTag.report_id).where(CaseTag.tag == filters.tag)))
    if include_search and filters.q and filters.q.strip():
        conds.append(search_condition(session, filters.q))
    return conds


def _segments(filters: Filters) -> list[tuple[int, int]]:
    urgencies = [URGENCIES.index(filters.urgency)] if filters.urgency else range(len(URGENCIES))
    with_due = (0,) if filters.overdue else (0, 1)
    return [(u, d) for u in urgencies for d in with_due]


def encode_cursor(key: tuple[int, int, datetime | None, datetime, int]) -> str:
    rank, seg, due, created, rid = key
    raw = json.dumps([rank, seg, due.isoformat() if due else None, created.isoformat(), rid])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, int, datetime | None, datetime, int]:
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        rank, seg, due, created, rid = raw
        if rank not in (0, 1, 2) or seg not in (0, 1) or not isinstance(rid, int):
            raise ValueError
        return (
            rank,
            seg,
            as_utc(datetime.fromisoformat(due)) if due else None,
            as_utc(datetime.fromisoformat(created)),
            rid,
        )
    except (ValueError, TypeError, json.JSONDecodeError) as exc:
        raise InvalidInput("cursor is not valid") from exc


def _key(report: Any) -> tuple[int, int, datetime | None, datetime, int]:
    due = as_utc(report.due_at) if report.due_at else None
    return (
        URGENCIES.index(report.urgency) if report.urgency in URGENCIES else 2,
        0 if due else 1,
        due,
        as_utc(report.created_at),
        report.id,
    )


def _sort_key(key: tuple[int, int, datetime | None, datetime, int]) -> tuple:
    rank, seg, due, created, rid = key
    return (rank, seg, due or created, created, rid)


def segment_statement(*, base: list[Any], rank: int, seg: int, after: tuple | None, limit: int) -> Any:
    """SELECT for one (urgency, has-deadline) segment, in index order, after a keyset position."""
    due_type = table_of(Report).c.due_at.type
    conds = [*base, col(Report.urgency) == URGENCIES[rank]]
    if seg == 0:
        conds.append(col(Report.due_at).is_not(None))
        order: tuple[Any, ...] = (col(Report.due_at), col(Report.created_at), col(Report.id))
        if after is not None:
            conds.append(
                tuple_(*order)
                > tuple_(
                    bindparam("k_due", after[2], type_=due_type),
                    bindparam("k_created", after[3], type_=due_type),
                    bindparam("k_id", after[4]),
                )
            )
    else:
        conds.append(col(Report.due_at).is_(None))
        order = (col(Report.created_at), col(Report.id))
        if after is not None:
            conds.append(
                tuple_(*order) > tuple_(bindparam("k_created", after[3], type_=due_type), bindparam("k_id", after[4]))
            )
    # Plain rows of the listed columns, not ORM objects: a page is read, never changed, and building
    # fifty full Report objects cost more than the query (the sealed narrative is never even read).
    return select(*LIST_COLUMNS).where(*conds).order_by(*order).limit(limit)


def _segment_rows(
    session: Session, *, base: list[Any], rank: int, seg: int, after: tuple | None, limit: int, q: str | None = None
) -> Sequence[Any]:
    # On the session's connection: Core rows, without the ORM's per-row loading step (a page is read-only).
    return (
        session.connection().execute(segment_statement(base=base, rank=rank, seg=seg, after=after, limit=limit)).all()
    )


# Segment statements already built (and compiled, as FastQuery), by everything their SQL and constants depend on (filters, the
# user for "assigned to me", the organisations in scope, the place subtree, segment, limit); what
# changes between requests — the time and the keyset position — is passed as parameters. Building
# the expression cost more than running the query on SQLite.
_STATEMENTS = cache.named("queue.statements", maxsize=512)


def _kept(key: tuple, build: Callable[[], FastQuery]) -> FastQuery:
    """The statement kept under `key`, built (and kept) by `build` the first time."""
    return _STATEMENTS.get_or_make(key, build)


def _memo_segment_rows(
    session: Session,
    *,
    memo: tuple,
    base: Callable[[], list[Any]],
    rank: int,
    seg: int,
    after: tuple | None,
    limit: int,
    at: datetime,
) -> list[Any]:
    query = _kept(
        (*memo, rank, seg, after is not None, limit),
        lambda: FastQuery(segment_statement(base=base(), rank=rank, seg=seg, after=after, limit=limit), ListRow),
    )
    values: dict[str, Any] = {"queue_at": at}
    if after is not None:
        values.update(k_due=after[2], k_created=after[3], k_id=after[4])
    # Run on the DBAPI cursor, compiled once (service/kit/fastsql.py): the same rows, processed by
    # the same column types, without SQLAlchemy's per-execution steps.
    return query.all(session.connection(), values)


SEARCH_WINDOW = 2000


def _search_segment_rows(
    session: Session, *, base: list[Any], rank: int, seg: int, after: tuple | None, limit: int, q: str
) -> list[Any]:
    """Text search inside one segment, cheap for common and for rare words alike.

    First the segment is read in queue order, a window of SEARCH_WINDOW rows, testing each
    narrative with a substring match: a common word fills the page from there. Only when the
    window is full and the page still is not does the search index (FTS5 trigram / pg_trgm)
    take over for the rest of the segment, which is cheap exactly when the word is rare.
    """
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    hit = col(Report.narrative_masked).ilike(f"%{escaped}%", escape="\\")
    window = segment_statement(base=base, rank=rank, seg=seg, after=after, limit=SEARCH_WINDOW)
    window = window.with_only_columns(col(Report.id), col(Report.due_at), col(Report.created_at), hit)
    scanned = session.connection().execute(window).all()
    ids = [row[0] for row in scanned if row[3]][:limit]
    rows: list[Any] = []
    if ids:
        by_id = {r.id: r for r in session.connection().execute(select(*LIST_COLUMNS).where(col(Report.id).in_(ids)))}
        rows = [by_id[i] for i in ids if i in by_id]
    if len(rows) < limit and len(scanned) == SEARCH_WINDOW:
        last = scanned[-1]
        key = (rank, seg, as_utc(last[1]) if last[1] else None, as_utc(last[2]), last[0])
        rows += _segment_rows(
            session, base=[*base, search_condition(session, q)], rank=rank, seg=seg, after=key, limit=limit - len(rows)
        )
    return rows


def org_case_ids(session: Session, *, user: Principal, filters: Filters, limit: int) -> list[int]:
    """Every case of the user's own organisation these filters show (all pages, no unrouted report), by id,
    at most `limit`: what "build a dossier from these cases" links."""
    if user.org_id is None:
        return []
    filters.validate()
    conds = filter_conditions(session, user=user, filters=filters, at=clock.now())
    stmt = select(Report.id).where(_scope_condition(user.org_id), *conds).order_by(col(Report.id)).limit(limit)
    return [i for i in session.exec(stmt).all() if i is not None]


def scope_conditions(session: Session, user: Principal) -> list[list[Any]]:
    """One list of conditions per organisation scope the user sees (merged in Python, each index-served)."""
    return [conds for _, conds in _scopes(session, user)]


def _scopes(session: Session, user: Principal) -> list[tuple[Any, list[Any]]]:
    """(name, conditions) per organisation scope the user sees: the organisation id (None: unrouted
    reports), or "all" for a platform administrator. The name is part of kept statements' keys."""
    orgs = visible_orgs(session, user)
    return [("all", [])] if orgs is None else [(o, [_scope_condition(o)]) for o in orgs]


def explain(session: Session, statement: Any, *, seqscan: bool = False) -> str:
    """The database's query plan for a statement (EXPLAIN QUERY PLAN / EXPLAIN), as text."""
    bind = session.get_bind()
    compiled = statement.compile(dialect=bind.dialect, compile_kwargs={"render_postcompile": True})
    conn = session.connection()
    if True:
        if bind.dialect.name == "sqlite":
            params = tuple(compiled.params[name] for name in compiled.positiontup)
            processors = compiled._bind_processors
            params = tuple(processors[n](v) if n in processors else v for n, v in zip(compiled.positiontup, params))
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + str(compiled), params).all()
            return "\n".join(str(r[-1]) for r in rows)
        if not seqscan:  # can an index serve it at all (tiny test tables are always scanned)?
            conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        processors = compiled._bind_processors
        named = {n: processors[n](v) if n in processors else v for n, v in compiled.params.items()}
        rows = conn.exec_driver_sql("EXPLAIN " + str(compiled), named).all()
        return "\n".join(str(r[0]) for r in rows)


@dataclass
class QueueRows:
    """A page as plain rows of LIST_COLUMNS (what the JSON list serialises without building objects)."""

    rows: list[Any]
    next_cursor: str | None
    at: datetime  # the time the page was read at (what "overdue" is measured against)


def queue_rows(
    session: Session,
    *,
    user: Principal,
    filters: Filters = Filters(),
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
) -> QueueRows:
    """One page of the user's queue, in queue order, after `cursor`, as rows."""
    filters.validate()
    limit = max(1, min(limit, 200))
    at = clock.now()
    after = decode_cursor(cursor) if cursor else None
    q = (filters.q or "").strip() or None
    scopes = _scopes(session, user)
    built: list[Any] = []

    def conds() -> list[Any]:  # built only when a statement is not cached yet
        if not built:
            built.extend(filter_conditions(session, user=user, filters=filters, at=at, include_search=False))
        return built

    subtree = tuple(place_subtree(session, filters.place_id)) if filters.place_id is not None else ()
    memo = (filters, user.id if filters.assigned == "me" else None, subtree)
    found: list[Any] = []
    for org, scope in scopes:
        rows: list[Any] = []
        for rank, seg in _segments(filters):
            if after is not None and (rank, seg) < (after[0], after[1]):
                continue
            here = after if after is not None and (rank, seg) == (after[0], after[1]) else None
            if q:
                rows += _search_segment_rows(
                    session, base=[*scope, *conds()], rank=rank, seg=seg, after=here, limit=limit + 1 - len(rows), q=q
                )
            else:
                rows += _memo_segment_rows(
                    session,
                    memo=(*memo, org),  # base: called before this call returns
                    base=lambda: [*scope, *conds()],
                    rank=rank,
                    seg=seg,
                    after=here,
                    limit=limit + 1 - len(rows),
                    at=at,
                )
            if len(rows) > limit:
                break
        found += rows
    if len(scopes) > 1:  # each scope's rows are already in queue order; only a merge needs sorting
        found.sort(key=lambda r: _sort_key(_key(r)))
    page, more = found[:limit], len(found) > limit
    return QueueRows(rows=page, next_cursor=encode_cursor(_key(page[-1])) if more and page else None, at=at)


def queue_page(
    session: Session,
    *,
    user: Principal,
    filters: Filters = Filters(),
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
) -> QueuePage:
    """One page of the user's queue, in queue order, after `cursor`."""
    found = queue_rows(session, user=user, filters=filters, cursor=cursor, limit=limit)
    names = place_names(session, found.rows)
    items = [
        QueueItem(
            report=r,
            overdue=is_overdue(r, found.at),
            place_name_en=names.get(r.place_id, (None, None))[0],
            place_name_km=names.get(r.place_id, (None, None))[1],
        )
        for r in found.rows
    ]
    return QueuePage(items=items, next_cursor=found.next_cursor, filters=filters)


def place_names(session: Session, rows: list[Any]) -> dict[int | None, tuple[str, str]]:
    """English and Khmer names of the rows' places (from the cached place tree)."""
    return _place_names(session, {r.place_id for r in rows if r.place_id})


# Until a case has its own deadline (an escalation's), the page says by when the organisation should
# first answer: a day for urgent cases, three for high, a week for the rest (docs/review-queue.md).
FIRST_RESPONSE_HOURS = {"urgent": 24, "high": 72, "normal": 168}
AWAITING_FIRST_RESPONSE = ("received", "triaged")  # nobody has acted on the case yet


def first_response_due(created_at: datetime, urgency: str | None) -> datetime:
    """When the organisation's first response to a case is due (shown while the case has no deadline)."""
    return as_utc(created_at) + timedelta(hours=FIRST_RESPONSE_HOURS.get(urgency or "normal", 168))


def _undelivered_in(ids: Any) -> Any:
    return (
        select(OutboundMessage.report_id)
        .where(col(OutboundMessage.report_id).in_(ids), OutboundMessage.status == "dead")
        .distinct()
    )


# Every queue page asks this for its rows: compiled once, with a page's worth of id slots
# (building the expression, the ORM's compile state and an expanding IN for every call cost
# several times the query itself; docs/benchmarks.md, review queue, "CPU per request").
_UNDELIVERED_PAGE = FastQuery(_undelivered_in(id_slots(PAGE_SIZE)))
_UNDELIVERED = _undelivered_in(bindparam("ids", expanding=True))


def undelivered(session: Session, report_ids: list[int]) -> set[int]:
    """The cases among `report_ids` with a message that could not be delivered (a dead letter)."""
    if not report_ids:
        return set()
    if len(report_ids) <= PAGE_SIZE:
        found = [r for (r,) in _UNDELIVERED_PAGE.all(session.connection(), id_params(report_ids, PAGE_SIZE))]
    else:
        found = list(session.connection().execute(_UNDELIVERED, {"ids": report_ids}).scalars().all())
    return {int(r) for r in found if r is not None}


def is_overdue(report: Any, at: datetime | None = None) -> bool:
    return bool(report.due_at and report.status in OPEN_STATUSES and as_utc(report.due_at) < (at or clock.now()))


def _place_names(session: Session, ids: set[int | None]) -> dict[int | None, tuple[str, str]]:
    if not ids:
        return {}
    _, names = _place_tree(session)
    if any(i not in names for i in ids):  # a place added since the cache was filled
        _places_cache.clear()
        _, names = _place_tree(session)
    return {i: names[i] for i in ids if i in names}


def _capped_count(session: Session, conds: list[Any], cap: int) -> int:
    inner = select(Report.id).where(*conds).limit(cap).subquery()
    return int(session.exec(select(func.count()).select_from(inner)).one())


def queue_counts(session: Session, *, user: Principal, cap: int = COUNT_CAP) -> dict[str, int]:
    """How many open cases each quick filter holds (each capped at `cap`: shown as "cap+")."""
    at = clock.now()
    orgs = visible_orgs(session, user)
    scope: list[Any] = []
    if orgs is not None:
        scope = (
            [or_(*[_scope_condition(o) for o in orgs])]
            if len(orgs) > 1
            else [_scope_condition(orgs[0])]
            if orgs
            else [col(Report.id).is_(None)]
        )
    open_ = [*scope, col(Report.status).in_(OPEN_STATUSES)]
    specs: dict[str, list[Any]] = {"open": open_}
    for urgency in URGENCIES:
        specs[f"urgency:{urgency}"] = [*open_, col(Report.urgency) == urgency]
    for status in OPEN_STATUSES:
        specs[f"status:{status}"] = [*scope, col(Report.status) == status]
    specs["overdue"] = [*open_, col(Report.due_at) < at]
    specs["unassigned"] = [*open_, col(Report.assigned_user_id).is_(None)]
    specs["mine"] = [*open_, col(Report.assigned_user_id) == user.id]
    # One statement, one round trip: each count is a capped scalar subquery.
    columns = [
        select(func.count()).select_from(select(Report.id).where(*conds).limit(cap).subquery()).scalar_subquery()
        for conds in specs.values()
    ]
    row = session.connection().execute(select(*columns)).one()
    counts = {name: int(value) for name, value in zip(specs, row)}
    return counts


COUNT_SCAN = 1000  # rows a filtered view's counts read at most (then the counts are lower bounds: "n+");
# a quick filter holding a fifth of the view or more still reaches the COUNT_CAP of 200 ("200+")


def quick_filters(filters: Filters) -> dict[str, Filters]:
    """The web queue's quick filters on top of `filters`: key → the filters its link lists."""
    base = replace(filters, q=None)
    out = {"open": base}
    for urgency in URGENCIES:
        out[f"urgency:{urgency}"] = replace(base, urgency=urgency)
    for status in OPEN_STATUSES:
        out[f"status:{status}"] = replace(base, status=(status,))
    out["overdue"] = replace(base, overdue=True)
    out["unassigned"] = replace(base, assigned="unassigned")
    out["mine"] = replace(base, assigned="me")
    return out


@dataclass
class ViewCounts:
    counts: dict[str, int]
    partial: bool  # True: COUNT_SCAN rows were read and there may be more, so each count is a lower bound


def view_counts(
    session: Session, *, user: Principal, filters: Filters, cap: int = COUNT_CAP, scan: int = COUNT_SCAN
) -> ViewCounts:
    """Counts of each quick filter on top of the current filters (each what its link would list;
    the text search is left out), from ONE read of at most `scan` rows.

    Twelve capped counts, each with the view's filters, cost up to hundreds of milliseconds on a
    million cases when a combination is rare (each scans the organisation's open cases to the end):
    here the rows of the view with the quick filters' own conditions relaxed (any urgency, the
    open statuses and the view's, overdue or not, anyone's) are read once, by the index that serves
    the view's filters, and counted in Python. With no filter at all, use `queue_counts`."""
    filters.validate()
    at = clock.now()
    statuses = (*OPEN_STATUSES, *(s for s in filters.status if s not in OPEN_STATUSES))
    relaxed = replace(
        filters,
        q=None,
        urgency=None,
        overdue=False,
        assigned=None,
        status=("all",) if "all" in filters.status else statuses,
    )
    scopes = _scopes(session, user) or [(None, [col(Report.id).is_(None)])]
    subtree = tuple(place_subtree(session, relaxed.place_id)) if relaxed.place_id is not None else ()
    rows: list[Any] = []
    for org, scope in scopes:
        # kept like the queue's segment statements (nothing of the user is in it: `assigned` is relaxed)
        limit = scan + 1 - len(rows)
        query = _kept(
            ("view", relaxed, subtree, org, limit),
            lambda: FastQuery(view_statement(session, user=user, relaxed=relaxed, scope=scope, at=at, limit=limit)),
        )
        rows += query.all(session.connection(), {"queue_at": at})
        if len(rows) > scan:
            break
    partial = len(rows) > scan
    # Count the rows by what the quick filters look at (urgency, status, overdue, whose): a few
    # dozen kinds, so each quick filter then sums kinds, not 1,000 rows.
    me = user.id
    kinds = Counter(
        (urgency, status, due is not None and due < at, None if assigned is None else assigned == me)
        for urgency, status, due, assigned in rows[:scan]
    )
    counts: dict[str, int] = {}
    for key, f in quick_filters(filters).items():
        wanted = OPEN_STATUSES if not f.status else None if "all" in f.status else f.status
        n = 0
        for (urgency, status, overdue, mine), k in kinds.items():
            if (
                (wanted is None or status in wanted)
                and (f.urgency is None or urgency == f.urgency)
                and (not f.overdue or overdue)
                and (f.assigned is None or (mine is None if f.assigned == "unassigned" else mine is True))
            ):
                n += k
        counts[key] = min(n, cap)
    return ViewCounts(counts=counts, partial=partial)


# The filters with an organisation index of their own (ix_report_org_category, _place, ...).
_OWN_INDEX = ("category", "channel", "population", "place_id", "cluster_id")


def view_statement(
    session: Session, *, user: Principal, relaxed: Filters, scope: list[Any], at: datetime, limit: int
) -> Any:
    """The rows `view_counts` reads for one scope. With a filter that has an index of its own, that
    index must serve the read: the relaxed status test (five open statuses) matches most of an
    organisation, and SQLite's planner, told by sampled statistics that both are alike, would
    otherwise walk the status index past the other places' or categories' cases (a province: 50 ms
    instead of 9 on a million cases, docs/benchmarks-history.md)."""
    sqlite = session.get_bind().dialect.name == "sqlite"
    own_index = any(getattr(relaxed, name) is not None for name in _OWN_INDEX)
    conds = filter_conditions(
        session, user=user, filters=relaxed, at=at, include_search=False, status_by_index=not (sqlite and own_index)
    )
    return (
        select(Report.urgency, Report.status, Report.due_at, Report.assigned_user_id).where(*scope, *conds).limit(limit)
    )


_PLACE_CHOICES = cache.named("queue.place_choices", maxsize=8, ttl=_PLACES_TTL)  # by database


def place_choices(session: Session) -> list[Any]:
    """The places the queue's place filter offers (country, provinces, operational districts), as rows
    of (id, name_en, name_km), cached like the place tree."""
    key = str(session.get_bind().engine.url)
    cached = _PLACE_CHOICES.get(key)
    if cached is not None:
        return cached
    rows = list(
        session.connection()
        .execute(
            select(Place.id, Place.name_en, Place.name_km)
            .where(col(Place.kind).in_(("country", "province", "od")))
            .order_by(col(Place.kind), col(Place.name_en))
        )
        .all()
    )
    return _PLACE_CHOICES.put(key, rows)
