"""Open311 GeoReport v2, read-only, over public, suppressed, anonymised data.

Choices (docs/analytics.md):
* services = the report categories;
* a request is published only when its (province, category, month) cell holds at least
  the suppression threshold of reports, so no published request stands out in a small group;
* date filters are rounded out to whole months, the granularity times are published at;
* a record is listed only when its (province, category, month, status group) group holds at least the
  threshold; `status_notes` is that status group, `updated_datetime` is not published (the month of
  the last change would be one more thing to count by);
* location = the province's capital point (never a facility); time = the first day of the
  report's local month (00:00 on the wall clock of the organisation handling it, with its offset:
  the month the public page counts it in, service/analytics/localday.py); `service_request_id` is a
  keyed hash, not the database id nor the receipt code;
* `description` is an approved quote of that report when there is one, otherwise empty;
* a record is listed only where the public page shows its counts: when its province and status group
  (province table), its category and month (reports over time) or its status group and month (open and
  resolved) is hidden on the page, as "<10" or as "x", suppressed for the feed's own months and for
  the public page's window, the record is not listed. Counting listed records can then never tell a
  count the page hides.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta, timezone
from xml.etree import ElementTree as ET

from sqlalchemy import and_, func, select
from sqlmodel import Session, col

from service.analytics import charts, escalations, localday, publish, queries as q, rollup
from service.analytics.labels import label
from service.analytics.models import ApprovedQuote
from service.config import get_settings
from service.kit import cache, zones
from service.kit.i18n import N_, gettext
from service.kit.masking import mask
from service.reports.models import CATEGORIES, Report

SERVICE_FIELDS = ("service_code", "service_name", "description", "metadata", "type", "keywords", "group")
REQUEST_FIELDS = (
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
)
MAX_REQUESTS = 1000
GROUP = N_("health services")  # every service's group, a name people read (in the reader's language)


def services(language: str = "en") -> list[dict]:
    return [
        {
            "service_code": c,
            "service_name": label(language, c),
            "description": gettext(language, "Community reports: {category}", category=label(language, c)),
            "metadata": False,
            "type": "realtime",
            "keywords": c.replace("_", ","),
            "group": gettext(language, GROUP),
        }
        for c in CATEGORIES
    ]


def _request_id(report_id: int) -> str:
    key = get_settings().secret_key.encode()
    return hmac.new(key, f"open311:{report_id}".encode(), hashlib.sha256).hexdigest()[:16]


def _month(value: datetime, zone_name: str | None = None) -> str:
    """The first instant of `value`'s month on the wall clock of `zone_name` (UTC when None), with its
    offset: '2026-11-01T00:00:00+07:00'."""
    shown = zones.local(value, zone_name or "UTC")
    assert shown is not None
    first = datetime(shown.year, shown.month, 1, tzinfo=zones.zone(zone_name or "UTC"))
    return first.isoformat(timespec="seconds").replace("+00:00", "Z")


def local_month(value: datetime, zone_name: str) -> str:
    """'YYYY-MM' of `value` (UTC) on the wall clock of `zone_name`: the month the public page counts it in."""
    shown = zones.local(value, zone_name)
    assert shown is not None
    return f"{shown.year:04d}-{shown.month:02d}"


def month_floor(value: datetime) -> datetime:
    return datetime(value.year, value.month, 1, tzinfo=timezone.utc)


def month_window(since: datetime | None, until: datetime | None) -> tuple[datetime | None, datetime | None]:
    """Date filters at the published granularity: whole local months ([first of since's month, first of
    the month after until's, unless until is already a month's first instant)), as wall-clock bounds
    (`Filters.local`: each report on the wall clock of its organisation, as the public page counts it).
    A date is read on its own wall clock: 2026-11-01T00:00:00+07:00 is November. A filter at millisecond
    precision can then not locate a report's moment inside its published month."""
    start = month_floor(since) if since is not None else None
    end = None
    if until is not None:
        until = until.replace(tzinfo=timezone.utc)
        end = month_floor(until)
        if end != until:
            end = month_floor(end + timedelta(days=32))
    return start, end


def status_group(status: str) -> str:
    """The public page's status groups: open, resolved (resolved or closed), other (rejected...)."""
    if status in q.OPEN_STATUSES:
        return "open"
    return "resolved" if status in q.RESOLVED_STATUSES else "other"


def requests(
    session: Session,
    *,
    filters: q.Filters,
    service_code: str | None = None,
    status: str | None = None,
    limit: int = 200,
    language: str = "en",
) -> list[dict]:
    """Public requests: only reports in (province, category, month) groups of at least the threshold."""
    threshold = get_settings().suppression_threshold
    tree = q.place_tree(session)
    points = charts.province_points()
    conds = [*q._where(session, filters), col(Report.place_id).is_not(None), col(Report.category).is_not(None)]
    if service_code:
        conds.append(col(Report.category) == service_code)
    if status == "open":
        conds.append(col(Report.status).in_(q.OPEN_STATUSES))
    elif status == "closed":
        conds.append(col(Report.status).not_in(q.OPEN_STATUSES))
    rows = session.execute(
        select(
            col(Report.id),
            col(Report.place_id),
            col(Report.category),
            col(Report.status),
            col(Report.created_at),
            col(Report.updated_at),
            col(Report.org_id),
        )
        .where(and_(*conds))
        .order_by(col(Report.created_at).desc(), col(Report.id).desc())
    ).all()
    # What a record publishes: province, category, month and status group (as the public page's
    # province table: open, resolved, other). A record is listed only when its group of exactly those
    # values holds at least the threshold, so counting listed records never finds a small count.
    # The month is the report's local month (its organisation's zone), the month the page counts it in.
    sizes: dict[tuple[str, str, str, str], int] = {}
    keyed = []
    org_zone, default_zone = localday.org_zones(session), zones.default_name()
    for rid, pid, cat, st, created, updated, org_id in rows:
        province = tree.province_of(pid)
        if province is None:
            continue
        zone_name = org_zone.get(org_id, default_zone) if org_id is not None else default_zone
        key = (province.code, cat, local_month(created, zone_name), status_group(st))
        sizes[key] = sizes.get(key, 0) + 1
        keyed.append((key, rid, province, cat, st, created, zone_name))
    hidden, public_months = _hidden_on_public_pages(session, filters)
    publishable = {k for k, n in sizes.items() if n >= threshold and not (_cells(k, public_months) & hidden)}
    quotes: dict[int, str] = {}
    ids = [k[1] for k in keyed if k[0] in publishable][: max(1, min(limit, MAX_REQUESTS))]
    if ids:
        for qt in session.execute(
            select(ApprovedQuote).where(col(ApprovedQuote.report_id).in_(ids), col(ApprovedQuote.revoked_at).is_(None))
        ).scalars():
            if mask(qt.excerpt_masked) == qt.excerpt_masked:  # masked again: an older approval may hold a number
                quotes.setdefault(qt.report_id, qt.excerpt_masked)
    out = []
    wanted = set(ids)
    for key, rid, province, cat, st, created, zone_name in keyed:
        if rid not in wanted:
            continue
        lon, lat = points.get(province.code, (None, None, "", ""))[:2]
        out.append(
            {
                "service_request_id": _request_id(rid),
                "status": "open" if st in q.OPEN_STATUSES else "closed",
                "status_notes": label(language, status_group(st)),
                "service_name": label(language, cat),
                "service_code": cat,
                "description": quotes.get(rid, ""),
                "agency_responsible": "",
                "service_notice": "",
                "requested_datetime": _month(created, zone_name),
                "updated_datetime": None,
                "expected_datetime": None,
                "address": province.name_km if language == "km" else province.name_en,
                "address_id": province.code,
                "zipcode": None,
                "lat": lat,
                "long": lon,
                "media_url": None,
            }
        )
    return out


def _cells(key: tuple[str, str, str, str], public_months: set[str]) -> set[tuple[str, str, str]]:
    """The public page's cells a record of this (province, category, month, status group) counts in
    (the page's own province table only when the month is inside the page's window)."""
    province, category, month, group = key
    cells = {("provinces", province, group), ("over_time", category, month), ("open_resolved", group, month)}
    if month in public_months:
        cells.add(("provinces@public", province, group))
    return cells


_HIDDEN_CACHE = cache.named("analytics.open311_hidden", maxsize=16)


def _hidden_on_public_pages(session: Session, filters: q.Filters) -> tuple[set[tuple[str, str, str]], set[str]]:
    """`_page_cells`, kept while the reports are unchanged: suppressing the page twice takes about a
    second, the feed is public, and the answer depends only on the reports, the months and the
    threshold (the key holds the report count, the latest change and the highest id)."""
    rollup.refresh_if_stale(session)  # as the public page does before drawing its figures
    state = session.execute(select(func.count(), func.max(Report.updated_at), func.max(Report.id))).one()
    key = (
        str(session.get_bind().engine.url),
        filters.since,
        filters.until,
        get_settings().suppression_threshold,
        publish.default_window(),
        *state,
    )
    return _HIDDEN_CACHE.get_or_make(key, lambda: _page_cells(session, filters))


def _page_cells(session: Session, filters: q.Filters) -> tuple[set[tuple[str, str, str]], set[str]]:
    """Every cell the public page hides — as suppressed for the feed's months and for the page's own
    window — named as in `_cells`. The province cells of the page's window count only for records
    inside that window."""
    out: set[tuple[str, str, str]] = set()
    public_months: set[str] = set()
    windows = [filters, q.Filters(*publish.default_window())]
    for k, window in enumerate(windows):
        page = publish.public_raw(session, filters=window)
        pubs = publish.public_tables(page.raw)
        groups = ("open", "resolved", "other")
        months = page.raw["over_time"][2]
        if k == 1:
            public_months = set(months)
        for i, j in pubs["provinces"].hidden:
            if i < len(page.province_codes) and j < len(groups):
                code = page.province_codes[i]
                out.add(("provinces", code, groups[j]) if k == 0 else ("provinces@public", code, groups[j]))
        for i, j in pubs["over_time"].hidden:
            if i < len(page.categories) and j < len(months):
                out.add(("over_time", page.categories[i], months[j]))
        for i, j in pubs["open_resolved"].hidden:
            if i < len(groups) and j < len(months):
                out.add(("open_resolved", groups[i], months[j]))
    return out, public_months


# -- Samleng's extension: the grievance bodies' figures -----------------------------------------------
BODY_FIELDS = (
    "body",
    "name",
    "level",
    "escalations",
    "on_time",
    "on_time_total",
    "on_time_share",
    "median_hours",
    "answers",
    "not_ours",
    "not_ours_total",
    "not_ours_share",
    "solved",
    "solved_total",
    "solved_share",
)


def bodies(session: Session, *, language: str = "en") -> list[dict]:
    """`/open311/v2/bodies.json|xml`, not part of GeoReport v2: one record per grievance body with the
    public page's body figures over its window (the last 12 calendar months), every count as the page
    shows it ("<10", "x", a number), a share or a median only where the page prints one (else null)."""
    rollup.refresh_if_stale(session)
    since, until = publish.default_window()
    return escalations.body_rows(escalations.figures(session, q.Filters(since, until)), language)


def to_xml(root: str, item: str, items: list[dict]) -> bytes:
    """GeoReport v2 XML: <services><service>… or <service_requests><request>…"""
    top = ET.Element(root)
    for entry in items:
        node = ET.SubElement(top, item)
        for key, value in entry.items():
            child = ET.SubElement(node, key)
            if value is not None:
                child.text = str(value).lower() if isinstance(value, bool) else str(value)
    return b'<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(top, encoding="utf-8")
