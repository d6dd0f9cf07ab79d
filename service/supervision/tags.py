"""Tags on cases and saved queue filters. Plain functions; callers commit.

A tag belongs to the case's organisation; anyone who may see the case may tag it or take a tag off
(the same rule as a note). Tags and saved filters are short labels typed by staff: one that looks
like a phone number, an email or another identifier is refused (service/kit/masking.py), so none
ever reaches the database or the audit log.
"""

from __future__ import annotations

import unicodedata
from typing import Any
from urllib.parse import parse_qsl, urlencode

from sqlalchemy import bindparam, func
from sqlmodel import Session, col, or_, select

from service.auth.principal import Principal
from service.audit.service import record
from service.kit.errors import InvalidInput, NotFound
from service.kit.fastsql import FastQuery, id_params, id_slots, session_connection
from service.kit.masking import mask
from service.kit.models import require_id
from service.queue.actions import NotPermitted
from service.queue.models import MAX_TAG, CaseTag
from service.queue.service import OPEN_STATUSES, PAGE_SIZE, visible_orgs
from service.reports.models import Report
from service.supervision.models import SavedFilter

MAX_TAGS_PER_CASE = 20
MAX_FILTERS = 50
# The queue's filters a saved view may hold (service/web/routes.py `_filters`); the page position is not kept.
FILTER_KEYS = (
    "status",
    "category",
    "urgency",
    "place_id",
    "channel",
    "population",
    "assigned",
    "overdue",
    "cluster_id",
    "q",
    "tag",
)


def _no_identifier(text: str, what: str) -> None:
    if mask(text) != text:
        raise InvalidInput(f"{what} cannot hold a phone number, email or other identifier")


def normalise_tag(text: str) -> str:
    """Trimmed, inner spaces collapsed, lower case (Khmer has no case), at most 40 characters."""
    tag = " ".join(unicodedata.normalize("NFC", text or "").split()).casefold()
    if not tag:
        raise InvalidInput("the tag is empty")
    if len(tag) > MAX_TAG:
        raise InvalidInput("a tag has at most 40 characters")
    if any(unicodedata.category(ch).startswith("C") for ch in tag):
        raise InvalidInput("the tag has a character that cannot be shown")
    _no_identifier(tag, "a tag")
    return tag


# Every case page asks: compiled once.
_TAGS_OF = FastQuery(select(CaseTag.tag).where(CaseTag.report_id == bindparam("report_id")).order_by(col(CaseTag.tag)))


def tags_of(session: Session, report_id: int) -> list[str]:
    return [tag for (tag,) in _TAGS_OF.all(session_connection(session), {"report_id": report_id})]


def _tags_in(ids: Any) -> Any:
    return select(CaseTag.report_id, CaseTag.tag).where(col(CaseTag.report_id).in_(ids)).order_by(col(CaseTag.tag))


# Every queue page asks this for its rows: compiled once, with a page's worth of id slots (the
# expression, the ORM's compile state and an expanding IN cost several times the query itself).
_TAGS_PAGE = FastQuery(_tags_in(id_slots(PAGE_SIZE)))
_TAGS_FOR = _tags_in(bindparam("ids", expanding=True))


def tags_for(session: Session, report_ids: list[int]) -> dict[int, tuple[str, ...]]:
    """The tags of each of these cases (a page of the queue), in one query."""
    if not report_ids:
        return {}
    found: dict[int, list[str]] = {}
    conn = session.connection()
    rows = (
        _TAGS_PAGE.all(conn, id_params(report_ids, PAGE_SIZE))
        if len(report_ids) <= PAGE_SIZE
        else conn.execute(_TAGS_FOR, {"ids": report_ids}).all()
    )
    for rid, tag in rows:
        found.setdefault(rid, []).append(tag)
    return {rid: tuple(t) for rid, t in found.items()}


def add_tag(session: Session, *, user: Principal, report: Report, tag: str) -> bool:
    """Put a tag on a case the caller already looked up (queue.get_case); False when it was there."""
    tag = normalise_tag(tag)
    if report.org_id is None:
        raise InvalidInput("a case is tagged once it is routed to an organisation")
    present = tags_of(session, require_id(report))
    if tag in present:
        return False
    if len(present) >= MAX_TAGS_PER_CASE:
        raise InvalidInput("a case has at most 20 tags")
    session.add(CaseTag(org_id=report.org_id, report_id=require_id(report), tag=tag, created_by=user.id))
    session.flush()
    record(
        session,
        actor=user.email,
        action="case.tag",
        object_type="report",
        object_id=report.id,
        detail={"after": {"tag": tag}},
    )
    return True


def remove_tag(session: Session, *, user: Principal, report: Report, tag: str) -> None:
    tag = " ".join((tag or "").split()).casefold()
    row = session.exec(select(CaseTag).where(CaseTag.report_id == report.id, CaseTag.tag == tag)).first()
    if row is None:
        raise InvalidInput("the case has no such tag")
    session.delete(row)
    session.flush()
    record(
        session,
        actor=user.email,
        action="case.untag",
        object_type="report",
        object_id=report.id,
        detail={"before": {"tag": tag}},
    )


def _scope(session: Session, user: Principal) -> list:
    orgs = visible_orgs(session, user)
    if orgs is None:
        return []
    ids = [o for o in orgs if o is not None]
    return [col(CaseTag.org_id).in_(ids)]


def org_tags(session: Session, *, user: Principal) -> list[tuple[str, int]]:
    """The tags in use in the user's organisation, with how many open cases carry each."""
    rows = session.exec(
        select(CaseTag.tag, func.count())
        .join(Report, col(Report.id) == col(CaseTag.report_id))
        .where(*_scope(session, user), col(Report.status).in_(OPEN_STATUSES))
        .group_by(col(CaseTag.tag))
        .order_by(col(CaseTag.tag))
    ).all()
    return [(t, int(n)) for t, n in rows]


def tagged_cases(session: Session, *, user: Principal, tag: str, limit: int = 200) -> list[Report]:
    """Cases carrying the tag that the user may see, open ones first, newest first."""
    tag = " ".join((tag or "").split()).casefold()
    return list(
        session.exec(
            select(Report)
            .join(CaseTag, col(CaseTag.report_id) == col(Report.id))
            .where(*_scope(session, user), CaseTag.tag == tag)
            .order_by(col(Report.status).in_(OPEN_STATUSES).desc(), col(Report.created_at).desc())
            .limit(limit)
        ).all()
    )


# -- saved filters -------------------------------------------------------------------------------


def clean_query(query: str) -> str:
    """Only the queue's filters, each value short; the page position and unknown keys are dropped."""
    kept = [
        (k, v.strip())
        for k, v in parse_qsl((query or "").lstrip("?"), keep_blank_values=False)
        if k in FILTER_KEYS and v.strip() and len(v) <= 200 and "\x00" not in v
    ]
    if not kept:
        raise InvalidInput("choose some filters in the queue first")
    text = urlencode(kept)
    if len(text) > 600:
        raise InvalidInput("the filters are too long to keep")
    for _, value in kept:
        _no_identifier(value, "a saved search")
    return text


def visible_filters(session: Session, *, user: Principal) -> list[SavedFilter]:
    """The user's own saved filters and those shared in their organisation, by name."""
    shared = (
        (col(SavedFilter.shared).is_(True)) & (col(SavedFilter.org_id) == user.org_id)
        if user.org_id is not None
        else col(SavedFilter.id).is_(None)
    )
    return list(
        session.exec(
            select(SavedFilter)
            .where(or_(SavedFilter.user_id == user.id, shared))
            .order_by(col(SavedFilter.name), col(SavedFilter.id))
        ).all()
    )


def save_filter(session: Session, *, user: Principal, name: str, query: str, shared: bool = False) -> SavedFilter:
    name = " ".join((name or "").replace("\x00", "").split())  # NUL: never stored (PostgreSQL refuses it)
    if not name:
        raise InvalidInput("give the view a name")
    if len(name) > 80:
        raise InvalidInput("a name has at most 80 characters")
    _no_identifier(name, "a name")
    if shared and (user.role not in ("supervisor", "admin") or user.org_id is None):
        raise NotPermitted("supervisors and administrators of an organisation share views")
    own = session.exec(select(func.count()).select_from(SavedFilter).where(SavedFilter.user_id == user.id)).one()
    if own >= MAX_FILTERS:
        raise InvalidInput("you have 50 saved views already: delete one first")
    row = SavedFilter(org_id=user.org_id, user_id=user.id, name=name, query=clean_query(query), shared=shared)
    session.add(row)
    session.flush()
    record(
        session,
        actor=user.email,
        action="filter.save",
        object_type="saved_filter",
        object_id=row.id,
        detail={"shared": shared},
    )
    return row


def delete_filter(session: Session, *, user: Principal, filter_id: int) -> None:
    """Your own; a view shared in your organisation: its supervisors and administrators too."""
    row = session.get(SavedFilter, filter_id)
    if row is None or row not in visible_filters(session, user=user):
        raise NotFound("no such saved view")
    if row.user_id != user.id and user.role not in ("supervisor", "admin"):
        raise NotPermitted("only its author or a supervisor deletes a shared view")
    session.delete(row)
    session.flush()
    record(session, actor=user.email, action="filter.delete", object_type="saved_filter", object_id=filter_id)
