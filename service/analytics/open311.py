"""Open311 GeoReport v2, read-only, over public, suppressed, anonymised data.

Choices (docs/analytics.md):
* services = the report categories;
* a request is published only when its (province, category, month) cell holds at least
  the suppression threshold of reports, so no published request stands out in a small group;
* location = the province's capital point (never a facility); time = the first day of the
  month (UTC); `service_request_id` is a keyed hash, not the database id nor the receipt code;
* `description` is an approved quote of that report when there is one, otherwise empty.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timezone
from xml.etree import ElementTree as ET

from sqlalchemy import and_, select
from sqlmodel import Session, col

from service.analytics import charts, queries as q
from service.analytics.labels import label
from service.analytics.models import ApprovedQuote
from service.config import get_settings
from service.kit.masking import mask
from service.reports.models import CATEGORIES, Report

SERVICE_FIELDS = ("service_code", "service_name", "description", "metadata", "type", "keywords", "group")
REQUEST_FIELDS = ("service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                  "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
                  "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url")
MAX_REQUESTS = 1000


def services(language: str = "en") -> list[dict]:
    return [{"service_code": c, "service_name": label(language, c),
             "description": f"Community reports: {label('en', c)}", "metadata": False, "type": "realtime",
             "keywords": c.replace("_", ","), "group": "health services"} for c in CATEGORIES]


def _request_id(report_id: int) -> str:
    key = get_settings().secret_key.encode()
    return hmac.new(key, f"open311:{report_id}".encode(), hashlib.sha256).hexdigest()[:16]


def _month(value: datetime) -> str:
    return datetime(value.year, value.month, 1, tzinfo=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def requests(session: Session, *, filters: q.Filters, service_code: str | None = None, status: str | None = None,
             limit: int = 200, language: str = "en") -> list[dict]:
    """Public requests: only reports in (province, category, month) groups of at least the threshold."""
    threshold = get_settings().suppression_threshold
    tree = q.place_tree(session)
    points = charts.province_points()
    conds = [*q._where(session, filters), col(Report.place_id).is_not(None), col(Report.category).is_not(None)]
    if service_code:
        conds.append(Report.category == service_code)
    if status == "open":
        conds.append(col(Report.status).in_(q.OPEN_STATUSES))
    elif status == "closed":
        conds.append(col(Report.status).not_in(q.OPEN_STATUSES))
    rows = session.execute(
        select(Report.id, Report.place_id, Report.category, Report.status, Report.created_at, Report.updated_at)
        .where(and_(*conds)).order_by(col(Report.created_at).desc(), col(Report.id).desc())
    ).all()
    # Group sizes over everything in scope (not only the page), per (province, category, month).
    sizes: dict[tuple[str, str, str], int] = {}
    keyed = []
    for rid, pid, cat, st, created, updated in rows:
        province = tree.province_of(pid)
        if province is None:
            continue
        key = (province.code, cat, created.strftime("%Y-%m"))
        sizes[key] = sizes.get(key, 0) + 1
        keyed.append((key, rid, province, cat, st, created, updated))
    quotes = {}
    ids = [k[1] for k in keyed if sizes[k[0]] >= threshold][: max(1, min(limit, MAX_REQUESTS))]
    if ids:
        for qt in session.execute(select(ApprovedQuote).where(col(ApprovedQuote.report_id).in_(ids),
                                                              col(ApprovedQuote.revoked_at).is_(None))).scalars():
            if mask(qt.excerpt_masked) == qt.excerpt_masked:  # masked again: an older approval may hold a number
                quotes.setdefault(qt.report_id, qt.excerpt_masked)
    out = []
    wanted = set(ids)
    for key, rid, province, cat, st, created, updated in keyed:
        if rid not in wanted:
            continue
        lon, lat = points.get(province.code, (None, None, "", ""))[:2]
        out.append({
            "service_request_id": _request_id(rid),
            "status": "open" if st in q.OPEN_STATUSES else "closed",
            "status_notes": label(language, "open") if st in q.OPEN_STATUSES else st.replace("_", " "),
            "service_name": label(language, cat), "service_code": cat,
            "description": quotes.get(rid, ""),
            "agency_responsible": "", "service_notice": "",
            "requested_datetime": _month(created), "updated_datetime": _month(updated or created),
            "expected_datetime": None,
            "address": province.name_km if language == "km" else province.name_en,
            "address_id": province.code, "zipcode": None,
            "lat": lat, "long": lon, "media_url": None,
        })
    return out


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

