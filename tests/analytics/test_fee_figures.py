"""Informal fees as published figures: totals and medians per place and quarter, one table per currency,
suppressed (no total or median from fewer reports than the threshold), on the scorecard, the quarterly
report, the dashboard and the aggregates export; and the attacker, who cannot work out a hidden count."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone

from hypothesis import HealthCheck, given, settings as hsettings, strategies as st
from sqlmodel import Session

from service.analytics import fees as fee_figures, pages, queries as q, service as svc
from service.analytics.suppression import Published
from tests.support.attacker import can_pin
from tests.support.factories import make_report, place

T = 5  # the threshold of these tests
Q2_AT = datetime(2026, 5, 12, 9, 0, tzinfo=timezone.utc)
Q3_AT = datetime(2026, 7, 10, 9, 30, tzinfo=timezone.utc)
CHREY = "KH-2-OD-THMORKOUL-HC-CHREY"
RIEL_Q3 = [5000, 10000, 10000, 20000, 20000, 40000]  # total 105,000, median 15,000
RIEL_Q2 = [1000, 2000, 3000, 4000, 5000]  # total 15,000, median 3,000


def _seed(session: Session) -> int:
    chrey = place(session, CHREY).id
    for at, riel in ((Q3_AT, RIEL_Q3), (Q2_AT, RIEL_Q2)):
        for amount in riel:
            make_report(session, at=at, place_id=chrey, category="financial_hardship", fee_cents=amount * 100,
                        fee_currency="KHR", fee_source="extracted")
    for dollars in (5, 7):  # two reports in dollars: too few to say anything about their amounts
        make_report(session, at=Q3_AT, place_id=chrey, category="financial_hardship", fee_cents=dollars * 100,
                    fee_currency="USD", fee_source="reporter")
    make_report(session, at=Q3_AT, place_id=chrey, category="financial_hardship")  # no amount: not counted
    session.commit()
    return chrey  # type: ignore[return-value]


def test_totals_and_medians_per_currency_suppressed(session: Session, places: None, settings) -> None:  # type: ignore[no-untyped-def]
    settings.suppression_threshold = T
    chrey = _seed(session)
    filters = q.Filters(*q.quarter_window(2026, 2)[:1], q.quarter_window(2026, 3)[1])
    khr, usd = fee_figures.fee_tables(session, filters=filters, threshold=T)
    assert (khr.currency, usd.currency) == ("KHR", "USD"), "never one table across currencies"
    assert khr.rows() == [
        {"place": "Chrey Health Centre", "quarter": "2026-Q2", "reports": "5", "total": "15,000 riel",
         "median": "3,000 riel", "total_cents": 1_500_000, "median_cents": 300_000},
        {"place": "Chrey Health Centre", "quarter": "2026-Q3", "reports": "6", "total": "105,000 riel",
         "median": "15,000 riel", "total_cents": 10_500_000, "median_cents": 1_500_000},
    ]
    assert usd.rows() == [{"place": "Chrey Health Centre", "quarter": "2026-Q3", "reports": f"<{T}", "total": "–", "median": "–",
                           "total_cents": None, "median_cents": None}]

    # The scorecard (both quarters), in English and Khmer; the quarterly report (Q3 only).
    card = pages.scorecard_page(session, place_id=chrey, filters=filters)
    assert 'id="fees-KHR"' in card and "105,000" in card and "15,000" in card
    assert 'id="fees-USD"' in card and "US dollars" in card and f"&lt;{T}" in card
    assert "12" not in card.split('id="fees-USD"')[1].split("</table>")[0], "no dollar total from 2 reports"
    km = pages.scorecard_page(session, place_id=chrey, filters=filters, language="km")
    assert "ថ្លៃក្រៅផ្លូវការដែលគេសុំ" in km and "រៀល" in km
    quarterly = pages.quarterly_report_html(session, year=2026, quarter=3)
    assert "105,000" in quarterly and "3,000" not in quarterly.split('id="fees-KHR"')[1].split("</table>")[0]
    assert "Informal fees asked" in pages.dashboard_page(session, filters=filters)

    # The aggregates export: a table per currency, the same suppression.
    extra = {f"fees_{t.currency}": t.export_rows() for t in (khr, usd)}
    data = svc.export_csv(session, tables={}, actor="h@x", role="handler", extra=extra).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(data)))
    assert ["place", "quarter", "currency", "reports", "total_KHR", "median_KHR"] in rows
    assert ["place", "quarter", "currency", "reports", "total_USD", "median_USD"] in rows
    assert ["Chrey Health Centre", "2026-Q3", "KHR", "6", "105000", "15000"] in rows
    assert ["Chrey Health Centre", "2026-Q3", "USD", f"<{T}", "", ""] in rows


def test_amounts_carry_their_currency_and_its_decimals_in_each_language(session: Session, places: None, settings) -> None:  # type: ignore[no-untyped-def]
    """Riel show no decimals (a median of 1,000.50 riel is 1,001), dollars and rands always two; every total
    and median says its currency, in the reader's language, on every page and in the export's columns."""
    settings.suppression_threshold = T
    chrey = place(session, CHREY).id
    for riel in ("1000.00", "1000.00", "1000.50", "1001.00", "1001.00", "1001.00"):  # median 1000.75
        make_report(session, at=Q3_AT, place_id=chrey, category="financial_hardship",
                    fee_cents=int(float(riel) * 100), fee_currency="KHR", fee_source="handler")
    for dollars in (5, 5, 6, 7, 1250):
        make_report(session, at=Q3_AT, place_id=chrey, category="financial_hardship", fee_cents=dollars * 100,
                    fee_currency="USD", fee_source="reporter")
    for rand in (150, 200, 250, 300, 350):
        make_report(session, at=Q3_AT, place_id=chrey, category="financial_hardship", fee_cents=rand * 100 + 50,
                    fee_currency="ZAR", fee_source="reporter")
    session.commit()
    filters = q.Filters(*q.quarter_window(2026, 3))
    khr, usd, zar = fee_figures.fee_tables(session, filters=filters, threshold=T)
    assert [(r["total"], r["median"]) for r in khr.rows()] == [("6,004 riel", "1,001 riel")]
    assert [(r["total"], r["median"]) for r in usd.rows()] == [("1,273.00 US dollars", "6.00 US dollars")]
    assert [(r["total"], r["median"]) for r in zar.rows("pt")] == [("1.252,50 rands", "250,50 rands")]
    assert [(r["total"], r["median"]) for r in usd.rows("pt")] == [("1.273,00 dólares americanos", "6,00 dólares americanos")]
    assert [(r["total"], r["median"]) for r in khr.rows("km")] == [("6,004 រៀល", "1,001 រៀល")]

    for language, words in (("en", ("6,004 riel", "1,273.00 US dollars", "1,252.50 rand")),
                            ("km", ("6,004 រៀល", "1,273.00 ដុល្លារអាមេរិក", "1,252.50 រ៉ង់")),
                            ("pt", ("6.004 riéis", "1.273,00 dólares americanos", "1.252,50 rands"))):
        card = pages.scorecard_page(session, place_id=chrey, filters=filters, language=language)
        quarterly = pages.quarterly_report_html(session, year=2026, quarter=3, language=language)
        dashboard = pages.dashboard_page(session, filters=filters, language=language)
        for page in (card, quarterly, dashboard):
            for shown in words:
                assert shown in page, (language, shown)
    rows = [row for t in (khr, usd, zar) for row in t.export_rows("pt")]
    assert ["place", "quarter", "currency", "reports", "total_ZAR", "median_ZAR"] in rows
    assert ["Chrey Health Centre", "2026-Q3", "KHR", "6", "6004", "1001"] in rows
    assert ["Chrey Health Centre", "2026-Q3", "USD", "5", "1273.00", "6.00"] in rows  # a point, whatever the language
    assert ["Chrey Health Centre", "2026-Q3", "ZAR", "5", "1252.50", "250.50"] in rows


def test_the_case_page_shows_the_amount_with_its_currency(app, world, engine) -> None:  # type: ignore[no-untyped-def]
    from service.reports.models import Report
    from tests.support.review import sign_in

    with Session(engine) as s:
        report = s.get_one(Report, world.cases["a"].id)
        report.fee_cents, report.fee_currency, report.fee_source = 1200, "USD", "handler"
        s.add(report)
        s.commit()
    assert sign_in(app, "handler@a.test").status_code == 303
    page = app.get(f"/cases/{world.cases['a'].id}").text
    assert "12.00 US dollars" in page.split('id="fee-amount"')[1].split("</p>")[0]
    pt = app.get(f"/cases/{world.cases['a'].id}", params={"lang": "pt"}).text
    assert "12,00 dólares americanos" in pt.split('id="fee-amount"')[1].split("</p>")[0]


def test_an_empty_period_says_so(session: Session, places: None, settings) -> None:  # type: ignore[no-untyped-def]
    settings.suppression_threshold = T
    chrey = _seed(session)
    filters = q.Filters(*q.quarter_window(2025, 1))
    assert fee_figures.fee_tables(session, filters=filters, threshold=T) == []
    assert "No report named an amount in this period." in pages.scorecard_page(session, place_id=chrey, filters=filters)


# -- the attacker ---------------------------------------------------------------------------------------

ROWS = ["p0", "p1", "p2"]
QUARTERS = ["2026-Q1", "2026-Q2", "2026-Q3"]


@st.composite
def fee_cells(draw) -> dict[tuple[int, str], list[int]]:  # type: ignore[no-untyped-def]
    cells: dict[tuple[int, str], list[int]] = {}
    for i in range(len(ROWS)):
        for quarter in QUARTERS:
            n = draw(st.sampled_from([0, 0, 1, 2, 3, 4, 5, 6, 9, 12]))
            if n:
                cells[(i, quarter)] = draw(st.lists(st.integers(1, 10_000_000), min_size=n, max_size=n))
    return cells


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fee_cells())
def test_the_attacker_learns_no_small_count_and_no_money_from_few(cells) -> None:  # type: ignore[no-untyped-def]
    table = fee_figures.build_table("KHR", cells, ROWS, T)
    pub: Published = table.counts
    # Money only where the count is published and at least the threshold; exactly the cell's own figures.
    for (i, j), total in table.total_cents.items():
        amounts = cells[(i, pub.col_labels[j])]
        assert pub.cell(i, j) == len(amounts) >= T
        assert total == sum(amounts) and table.median_cents[(i, j)] in range(min(amounts), max(amounts) + 1)
    for (i, quarter), amounts in cells.items():
        j = pub.col_labels.index(quarter)
        if len(amounts) < T or (i, j) in pub.hidden:
            assert (i, j) not in table.total_cents and (i, j) not in table.median_cents
    # No money for row or column totals: nothing to subtract a published cell from.
    assert all(i < pub.n_rows and j < pub.n_cols for i, j in table.total_cents)
    # Every printed row: a hidden count prints no money.
    for row in table.rows():
        if not str(row["reports"]).isdigit():
            assert row["total"] == row["median"] == "–"
    # The counts: no small count can be pinned down from what the table prints.
    cap = pub.values[-1][-1] + T
    for pos in sorted(pub.hidden):
        value = pub.values[pos[0]][pos[1]]
        if 0 < value < T:
            assert not can_pin({"fees": pub}, ("fees", pos), value, cap, threshold=T), (pos, pub.grid())
