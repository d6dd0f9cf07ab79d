"""Dashboard, public and scorecard pages in real headless Chromium (Playwright, Debian's chromium)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from sqlmodel import Session

from service.analytics import pages
from tests.analytics.test_exports_reports import Q3, _seed
from tests.support.browser import TIMEOUT_MS, launch, needs_chromium
from tests.support.factories import place

# The committed screenshots are refreshed only on request (SAMLENG_SCREENSHOTS=1), so a test run leaves the
# clone's files alone; otherwise they go to a temporary folder, still proving the pages render.
SHOTS = (Path(__file__).resolve().parents[2] / "docs" / "screenshots" if os.environ.get("SAMLENG_SCREENSHOTS") == "1"
         else Path(tempfile.gettempdir()) / "samleng-screenshots")
pytestmark = needs_chromium


@pytest.fixture
def browser():  # type: ignore[no-untyped-def]
    yield from launch()


def _charts_drawn(page) -> int:  # type: ignore[no-untyped-def]
    # A chart counts when its SVG has a real size on screen and drawn data marks inside (pygal's bars, line
    # dots and lines, pie slices; the map's provinces), each with a real size too.
    return page.evaluate("""() => [...document.querySelectorAll('figure.chart svg')].filter(svg => {
        const box = svg.getBoundingClientRect();
        const marks = [...svg.querySelectorAll('.bars rect, .dots circle, .series path.line, .slice path, .province')]
            .filter(el => { const b = el.getBoundingClientRect(); return b.width > 2 && b.height > 2; });
        return box.width > 100 && box.height > 100 && marks.length > 0; }).length""")


def _empty_states(page) -> list[str]:  # type: ignore[no-untyped-def]
    # Charts with nothing to show: one empty state, its message visible.
    return page.locator("figure.chart svg.empty text.no-data").all_text_contents()


def test_pages_render_with_charts(browser, live_server, session: Session, places: None) -> None:  # type: ignore[no-untyped-def]
    _seed(session)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(live_server.url("/public?lang=km"))
    page.screenshot(path=str(SHOTS / "public-km.png"), full_page=True)
    assert _charts_drawn(page) >= 6
    # The choropleth: 24 boundaries and Tboung Khmum's circle, each drawn with a real size on screen.
    assert page.locator("svg.province-map .province").count() == 25
    assert page.locator("svg.province-map path.province").count() == 24
    assert page.evaluate("""() => [...document.querySelectorAll('svg.province-map .province')]
        .filter(el => { const b = el.getBoundingClientRect(); return b.width > 3 && b.height > 3; }).length""") == 25
    assert page.locator("figure#fig-map figcaption").count() == 1

    page.set_content(pages.dashboard_page(session, filters=Q3))
    page.screenshot(path=str(SHOTS / "dashboard.png"), full_page=True)
    # Map, four lines over time, open/resolved; nobody answered or has a deadline yet: the two timing charts,
    # deadlines and satisfaction show the empty state (no 0–1 axis, no "Average hours: -").
    assert _charts_drawn(page) == 6
    assert _empty_states(page) == ["No reports yet."] * 4
    assert page.locator("#fig-first_response svg.empty").count() == 1
    assert "Average hours" not in page.locator("#fig-first_response").inner_text()
    assert page.locator("#drilldown a", has_text="Phnom Penh").count() == 1
    assert page.locator("svg.province-map a .province").count() == 25  # each province drills down

    page.set_content(pages.scorecard_page(session, place_id=place(session, "KH-12").id, filters=Q3))  # type: ignore[arg-type]
    # Phnom Penh's one "service quality" report is <10 and its complement hides the 27 others: the trend has
    # no count it may draw, and says so rather than drawing an empty 0–1 axis.
    assert page.locator("#fig-trend svg.chart").count() == 1
    assert _empty_states(page) == ["Every count here is too small to publish: see the table."]
    assert page.locator("#fig-trend details table").count() == 1  # the table it points to, under the chart
    page.emulate_media(media="print")
    assert page.locator("header").is_hidden()  # print layout: no site header on the A4 sheet
    page.emulate_media(media="screen")
    page.screenshot(path=str(SHOTS / "scorecard.png"), full_page=True)
    assert errors == []
