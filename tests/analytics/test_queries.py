"""Dashboard aggregates on a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from service.analytics import queries as q
from service.reports.models import ReportCluster
from tests.analytics.factories import T0, make_many
from tests.support.factories import make_report, place

Q3 = q.quarter_window(2026, 3)


def test_over_time_by_month_and_week(session: Session, places: None) -> None:
    make_many(session, 3, category="stigma_discrimination")
    make_report(session, category="service_quality", at=T0 + timedelta(days=31))
    make_report(session, category="service_quality", status="withdrawn", at=T0)  # never counted
    session.commit()
    f = q.Filters(*Q3)
    months = q.reports_over_time(session, by="category", period="month", filters=f)
    assert months.periods == ["2026-07", "2026-08", "2026-09"]
    assert months.counts["stigma_discrimination"] == [3, 0, 0]
    assert months.counts["service_quality"] == [0, 1, 0]
    weeks = q.reports_over_time(session, by="category", period="week", filters=f)
    assert weeks.periods[1] == "2026-07-06"
    assert weeks.counts["stigma_discrimination"][1] == 3
    quarters = q.reports_over_time(session, by="urgency", period="quarter", filters=f)
    assert quarters.periods == ["2026-Q3"] and quarters.counts["normal"] == [4]


def test_drill_down_province_district_facility(session: Session, places: None) -> None:
    hc = place(session, "KH-1-OD-MONGKOLBOREI-HC-BANTEAYNEANG")
    od = place(session, "KH-1-OD-MONGKOLBOREI")
    province = place(session, "KH-1")
    make_many(session, 2, place_id=hc.id)
    make_report(session, place_id=od.id, status="resolved", category="service_quality", at=T0)
    make_report(session, place_id=place(session, "KH-2").id, category="service_quality", at=T0)
    make_report(session, category="service_quality", at=T0)  # no place
    session.commit()
    f = q.Filters(*Q3)
    provinces = {(p.place.code if p.place else None): p for p in q.by_place(session, filters=f)}
    assert provinces["KH-1"].total == 3 and provinces["KH-1"].resolved == 1
    assert provinces["KH-2"].total == 1 and provinces[None].total == 1
    districts = {p.place.code if p.place else None: p.total for p in q.by_place(session, parent_id=province.id, filters=f)}
    assert districts["KH-1-OD-MONGKOLBOREI"] == 3
    facilities = {p.place.code if p.place else None: p.total for p in q.by_place(session, parent_id=od.id, filters=f)}
    assert facilities[hc.code] == 2 and facilities[None] == 1  # placed at the district itself
    assert q.total_reports(session, filters=q.Filters(*Q3, place_id=province.id)) == 3


def test_open_resolved_timing_satisfaction_deadlines(session: Session, places: None) -> None:
    make_report(session, status="in_progress", first_response_at=T0 + timedelta(hours=5), due_at=T0 + timedelta(days=1), category="service_quality", at=T0)
    make_report(session, status="closed", first_response_at=T0 + timedelta(days=2), resolved_at=T0 + timedelta(days=10),
                satisfaction="yes", due_at=T0 + timedelta(days=1), category="service_quality", at=T0)
    make_report(session, status="resolved", resolved_at=T0 + timedelta(hours=30), satisfaction="partly", category="service_quality", at=T0)
    make_report(session, status="rejected", category="service_quality", at=T0)
    session.commit()
    f = q.Filters(*Q3)
    ovr = q.open_vs_resolved(session, filters=f)
    assert ovr.counts["open"][0] == 1 and ovr.counts["resolved"][0] == 2 and ovr.counts["other"][0] == 1
    first = q.time_to_first_response(session, filters=f)
    assert first.measured == 2 and first.buckets["under_1_day"] == 1 and first.buckets["1_3_days"] == 1
    assert first.average_hours == round((5 + 48) / 2, 1)
    res = q.time_to_resolution(session, filters=f)
    assert res.buckets["1_3_days"] == 1 and res.buckets["7_30_days"] == 1
    assert q.satisfaction(session, filters=f) == {"yes": 1, "partly": 1, "no": 0, "no_answer": 0}
    assert q.deadline_compliance(session, filters=f) == {"met": 1, "missed": 1, "pending": 0}


def test_active_clusters_biggest_first(session: Session, places: None) -> None:
    small = ReportCluster(category="service_quality", size=2, label="small")
    big = ReportCluster(category="stigma_discrimination", size=4, systemic=True, label="big",
                        place_id=place(session, "KH-17").id)
    session.add(small)
    session.add(big)
    session.flush()
    make_many(session, 2, cluster_id=small.id)
    make_many(session, 4, cluster_id=big.id)
    session.commit()
    rows = q.active_clusters(session, filters=q.Filters(*Q3))
    assert [r.label for r in rows] == ["big", "small"] and rows[0].size == 4 and rows[0].place.code == "KH-17"
    assert [r.label for r in q.active_clusters(session, filters=q.Filters(*Q3), systemic_only=True)] == ["big"]
