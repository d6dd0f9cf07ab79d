"""Open311 reveals no more than the public page: date filters work at the month (the published
granularity), and a listed record never stands in a count the public page hides."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

from sqlmodel import Session

from service.analytics import open311, publish, queries as q
from service.kit.clock import now
from tests.analytics.factories import make_report, place


def _mid_month() -> datetime:
    at = now()
    start = datetime(at.year, at.month, 1, tzinfo=timezone.utc)
    return start + (at - start) / 2


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def test_date_filters_cannot_find_a_reports_time(live_server, session: Session, places: None) -> None:  # type: ignore[no-untyped-def]
    at = _mid_month()
    pid = place(session, "KH-17").id
    for _ in range(12):
        make_report(session, place_id=pid, category="stigma_discrimination", created_at=at, updated_at=at)
    session.commit()
    get = live_server.client.get

    def count(**params: str) -> int:
        return len(get("/open311/v2/requests.json", params=params).json())

    # A millisecond before or after the moment of creation: the same answer (the whole month).
    assert count(start_date=_iso(at - timedelta(milliseconds=1))) == 12
    assert count(start_date=_iso(at + timedelta(milliseconds=1))) == 12
    assert count(start_date=_iso(at - timedelta(days=40)), end_date=_iso(at - timedelta(milliseconds=1))) == 12
    assert count(start_date=_iso(at - timedelta(days=40)), end_date=_iso(at + timedelta(milliseconds=1))) == 12


def test_no_listed_record_sits_in_a_count_the_public_page_hides(session: Session, places: None, settings) -> None:  # type: ignore[no-untyped-def]
    at = _mid_month()
    kampot = place(session, "KH-7").id
    for _ in range(11):
        make_report(session, place_id=kampot, category="service_quality", status="in_progress", created_at=at,
                    updated_at=at)
    make_report(session, place_id=kampot, category="service_quality", status="resolved", created_at=at,
                updated_at=at)
    session.commit()
    since = datetime(at.year, at.month, 1, tzinfo=timezone.utc)
    listed = open311.requests(session, filters=q.Filters(since, None), limit=1000)
    table, codes = publish.province_table(session, filters=q.Filters(*publish.default_window()))
    assert table.shown(codes.index("KH-7"), 1) == "<10"  # the public page shows Kampot's resolved as <10
    per_cell = Counter((r["address_id"], r["status_notes"]) for r in listed)
    threshold = settings.suppression_threshold
    assert all(n >= threshold for n in per_cell.values()), per_cell  # no small group listed...
    assert not [r for r in listed if r["address_id"] == "KH-7" and r["status"] == "closed"]  # ...nor Kampot's one
    assert len([r for r in listed if r["address_id"] == "KH-7"]) == 11
