"""Reports are counted on the local day of the organisation handling them, not on the UTC day.

A report made at 01:30 on 1 January in Phnom Penh (UTC+7) is 18:30 UTC on 31 December; one made at
00:30 on 1 January in Johannesburg (UTC+2) is 22:30 UTC on 31 December. Both belong to January and Q1
where they were made. The dashboard's chart data (report table and rollup), the public page, a
scorecard and the quarterly report must all count them there, and the reports a few minutes before
local midnight in December and Q4.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import Session, select

from service.analytics import pages, queries as q, rollup
from service.analytics.models import ReportRollup
from service.kit import clock
from service.flows.zones import set_org_time_zone
from service.orgs.service import create_org
from service.reports.models import Report
from tests.analytics.factories import make_report, place

UTC = timezone.utc
N = 10  # at the suppression threshold: every cell below is published
# (UTC instant, organisation, local month)
KH_NEW_YEAR = datetime(2026, 12, 31, 18, 30, tzinfo=UTC)  # 2027-01-01 01:30 in Phnom Penh
KH_OLD_YEAR = datetime(2026, 12, 31, 16, 30, tzinfo=UTC)  # 2026-12-31 23:30 in Phnom Penh
ZA_NEW_YEAR = datetime(2026, 12, 31, 22, 30, tzinfo=UTC)  # 2027-01-01 00:30 in Johannesburg
ZA_OLD_YEAR = datetime(2026, 12, 31, 21, 30, tzinfo=UTC)  # 2026-12-31 23:30 in Johannesburg
DEC_JAN = (datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 2, 1, tzinfo=UTC))


@pytest.fixture
def world(session: Session, places: None) -> dict[str, int]:
    kh = create_org(session, slug="kh-cso", name="Cambodian CSO", time_zone="Asia/Phnom_Penh")
    za = create_org(session, slug="za-miners", name="Ex-mineworkers", time_zone="Africa/Johannesburg")
    phnom_penh, za_place = place(session, "KH-12"), place(session, "ZA")
    for at, org, where, category in ((KH_NEW_YEAR, kh, phnom_penh, "stigma_discrimination"),
                                     (KH_OLD_YEAR, kh, phnom_penh, "service_quality"),
                                     (ZA_NEW_YEAR, za, za_place, "financial_hardship"),
                                     (ZA_OLD_YEAR, za, za_place, "other")):
        for i in range(N):
            make_report(session, created_at=at + timedelta(seconds=i), updated_at=at, org_id=org.id,
                        place_id=where.id, category=category)
    session.commit()
    return {"kh": kh.id, "za": za.id, "KH-12": phnom_penh.id, "ZA": za_place.id}  # type: ignore[dict-item]


def _month_counts(session: Session, filters: q.Filters, period: str = "month") -> dict[str, dict[str, int]]:
    series = q.reports_over_time(session, by="category", period=period, filters=filters)
    return {v: {p: n for p, n in zip(series.periods, series.counts[v]) if n} for v in series.values
            if any(series.counts[v])}


def test_dashboard_chart_data_counts_each_organisations_local_day(session: Session, world: dict[str, int]) -> None:
    for built in (False, True):
        if built:
            rollup.rebuild(session)
            session.commit()
        for org, new_year, old_year in (("kh", "stigma_discrimination", "service_quality"),
                                        ("za", "financial_hardship", "other")):
            # An organisation's own dashboard (the report table: an organisation filter).
            counts = _month_counts(session, q.Filters(*DEC_JAN, org_id=world[org]))
            assert counts == {new_year: {"2027-01": N}, old_year: {"2026-12": N}}, (org, built, counts)
            quarters = _month_counts(session, q.Filters(*DEC_JAN, org_id=world[org]), "quarter")
            assert quarters == {new_year: {"2027-Q1": N}, old_year: {"2026-Q4": N}}, (org, built, quarters)
        # A province's figures (the rollup once built): Phnom Penh's reports on Phnom Penh's day.
        province = _month_counts(session, q.Filters(*DEC_JAN, place_id=world["KH-12"]))
        assert province == {"stigma_discrimination": {"2027-01": N}, "service_quality": {"2026-12": N}}, built
        # Whole days chosen on the dashboard: 1 January is the local 1 January of each report.
        day = q.counts_by(session, by="category", filters=q.Filters(datetime(2027, 1, 1, tzinfo=UTC),
                                                                    datetime(2027, 1, 2, tzinfo=UTC)))
        assert {k: v for k, v in day.items() if v} == {"stigma_discrimination": N, "financial_hardship": N}, built
    days = {(r.day.isoformat() if hasattr(r.day, "isoformat") else str(r.day)[:10], r.value)
            for r in session.exec(select(ReportRollup).where(ReportRollup.dim == "category"))}
    assert days == {("2027-01-01", "stigma_discrimination"), ("2026-12-31", "service_quality"),
                    ("2027-01-01", "financial_hardship"), ("2026-12-31", "other")}


def _table(html: str, figure: str) -> dict[str, list[str]]:
    """A published table of one figure: {row label: cells}, with the header row under ''."""
    block = re.search(rf'id="fig-{figure}".*?(<table>.*?</table>)', html, re.S)
    assert block, figure
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", block.group(1), re.S):
        cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[hd]>(.*?)</t[hd]>", row, re.S)]
        rows[cells[0]] = cells[1:]
    return rows


def _month_totals(html: str, figure: str = "over_time") -> dict[str, str]:
    rows = _table(html, figure)
    header, total = rows[""], rows["Total"]
    return dict(zip(header, total))


def test_public_page_counts_each_report_on_its_organisations_local_day(app, world: dict[str, int]) -> None:  # type: ignore[no-untyped-def]
    clock.set_offset(datetime(2027, 1, 20, 12, tzinfo=UTC) - datetime.now(UTC))
    try:
        html = app.get("/public").text
    finally:
        clock.set_offset(timedelta(0))
    totals = _month_totals(html)
    assert totals["2027-01"] == str(2 * N) and totals["2026-12"] == str(2 * N), totals


def test_quarterly_report_counts_the_local_quarter(session: Session, world: dict[str, int]) -> None:
    for org in ("kh", "za"):
        q1 = _month_totals(pages.quarterly_report_html(session, year=2027, quarter=1, org_id=world[org]))
        assert q1 == {"2027-01": str(N), "2027-02": "0", "2027-03": "0", "Total": str(N)}, (org, q1)
        q4 = _month_totals(pages.quarterly_report_html(session, year=2026, quarter=4, org_id=world[org]))
        assert q4["2026-12"] == str(N) and q4["Total"] == str(N), (org, q4)
    rollup.rebuild(session)
    session.commit()
    whole = _month_totals(pages.quarterly_report_html(session, year=2027, quarter=1))
    assert whole["2027-01"] == str(2 * N), whole


def test_scorecard_counts_the_local_quarter(session: Session, world: dict[str, int]) -> None:
    for built in (False, True):
        if built:
            rollup.rebuild(session)
            session.commit()
        for code, new_year in (("KH-12", "Stigma or discrimination"), ("ZA", "Fees or money")):
            html = pages.scorecard_page(session, place_id=world[code],
                                        filters=q.Filters(*q.quarter_window(2027, 1)))
            assert re.search(r"<b>\s*" + str(N) + r"\s*</b>", html), (code, built)
            trend = _table(html, "trend")
            assert trend[""][0] == "2027-01" and trend["Total"][0] == str(N), (code, built, trend)
            assert "2027-01-01 – 2027-03-31" in html


def test_routing_and_zone_changes_move_a_report_to_its_new_local_day(session: Session, world: dict[str, int]) -> None:
    """An unrouted report counts in the platform's zone (Phnom Penh); routed to the Johannesburg
    organisation it moves to Johannesburg's day, incrementally; a zone change recounts the rollup."""
    at = datetime(2027, 3, 31, 20, 0, tzinfo=UTC)  # 1 April 03:00 in Phnom Penh, 31 March 22:00 in Johannesburg
    for i in range(N):
        make_report(session, created_at=at + timedelta(seconds=i), updated_at=at, category="other")
    session.commit()
    rollup.rebuild(session)
    session.commit()
    april = q.Filters(datetime(2027, 4, 1, tzinfo=UTC), datetime(2027, 5, 1, tzinfo=UTC))
    assert q.counts_by(session, by="category", filters=april)["other"] == N
    clock.advance(timedelta(minutes=10))
    try:
        for report in session.exec(select(Report).where(Report.created_at >= at)).all():
            report.org_id = world["za"]
        session.commit()
        clock.advance(timedelta(minutes=10))
        assert rollup.refresh(session) > 0
        session.commit()
        assert q.counts_by(session, by="category", filters=april)["other"] == 0
        march = q.Filters(datetime(2027, 3, 1, tzinfo=UTC), datetime(2027, 4, 1, tzinfo=UTC))
        assert q.counts_by(session, by="category", filters=march)["other"] == N
        # The organisation moves to Phnom Penh's zone: the rollup is forgotten and counted again.
        set_org_time_zone(session, slug="za-miners", time_zone="Asia/Phnom_Penh")
        session.commit()
        assert not rollup.built(session)
        assert q.counts_by(session, by="category", filters=april)["other"] == N
        rollup.refresh(session)
        session.commit()
        assert rollup.built(session) and q.counts_by(session, by="category", filters=april)["other"] == N
    finally:
        clock.reset()


def test_a_zone_with_summer_time_counts_by_its_local_day(session: Session, places: None) -> None:
    """Lisbon is UTC+1 in summer, UTC in winter (SQLite converts such a zone in Python, one-offset
    zones in SQL): 30 June 23:30 UTC is 1 July there, 31 December 23:30 UTC still 31 December."""
    org = create_org(session, slug="pt-cso", name="Lisbon CSO", time_zone="Europe/Lisbon")
    for at in (datetime(2027, 6, 30, 23, 30, tzinfo=UTC), datetime(2027, 12, 31, 23, 30, tzinfo=UTC)):
        for i in range(N):
            make_report(session, created_at=at + timedelta(seconds=i), updated_at=at, org_id=org.id, category="other")
    session.commit()
    year = (datetime(2027, 1, 1, tzinfo=UTC), datetime(2028, 1, 1, tzinfo=UTC))
    for built in (False, True):
        if built:
            rollup.rebuild(session)
            session.commit()
            year_filters = q.Filters(*year)
        else:
            year_filters = q.Filters(*year, org_id=org.id)
        assert _month_counts(session, year_filters) == {"other": {"2027-07": N, "2027-12": N}}, built
