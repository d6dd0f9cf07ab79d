"""Every figure of one public page goes through one suppression pass: the map's province totals are
the province table's own published totals, so the map never shows a total the table hides."""

from __future__ import annotations

import html
import re
from datetime import timedelta

from sqlmodel import Session

from service.analytics import publish, queries as q
from service.kit.clock import now
from tests.support.factories import make_report, place

# Provinces in the table's order (index: open, resolved, other). With the map suppressed on its own,
# the total of the first (12) was shown on the map while the table hid it as a complement ('x').
ROWS = {1: (2, 5, 5), 2: (3, 0, 2), 11: (12, 12, 20)}
STATUS = ("in_progress", "resolved", "rejected")
TIP = re.compile(r'data-code="([^"]+)"[^>]*>(?:<title>|[^<]*<title>)[^<:]*: ([^<]+)</title>')


def _seed(session: Session, rows: dict[str, tuple[int, int, int]]) -> None:
    at = now() - timedelta(days=3)
    for code, counts in rows.items():
        pid = place(session, code).id
        for status, n in zip(STATUS, counts):
            for _ in range(n):
                make_report(session, place_id=pid, status=status, at=at, category="service_quality")
    session.commit()


def _page(session: Session) -> tuple[dict[str, str], dict[str, str], object]:
    since, until = publish.default_window()
    figs = {f.key: f for f in publish.public_figures(session, filters=q.Filters(since, until), language="en")}
    _alone, codes = publish.province_table(session, filters=q.Filters(since, until))
    table = figs["map"].table  # the province table as the page publishes it (suppressed with the other figures)
    in_table = {code: table.shown(i, table.n_cols) for i, code in enumerate(codes) if code}
    on_map = {code: html.unescape(text) for code, text in TIP.findall(figs["map"].svg)}
    return in_table, on_map, table


def test_map_totals_are_the_tables_published_totals(session: Session, places: None, settings) -> None:  # type: ignore[no-untyped-def]
    provinces = q.place_tree(session).provinces()
    _seed(session, {provinces[i].code: counts for i, counts in ROWS.items()})
    in_table, on_map, table = _page(session)
    assert in_table[provinces[1].code] == "x", table.grid()  # the table hides this total...
    for code, shown in in_table.items():
        # ...and the map hides it too (hatched, no number in its tooltip): one pass for the page
        assert on_map.get(code, shown) == shown, (code, on_map.get(code), shown)


def test_a_page_with_no_reports_is_published_without_error(session: Session, settings) -> None:  # type: ignore[no-untyped-def]
    """A fresh platform (no report yet): the whole-page check has nothing to solve, and every
    figure, the quarterly report's too, is drawn empty instead of failing (it once raised
    IndexError on an empty table)."""
    from service.analytics.pages import quarterly_report_html

    figures = publish.public_figures(session, filters=q.Filters(*publish.default_window()))
    assert figures is not None
    today = now()
    html_text = quarterly_report_html(session, year=today.year, quarter=(today.month - 1) // 3 + 1, language="pt")
    assert "<html" in html_text
