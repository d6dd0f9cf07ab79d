"""The quarterly report as Chromium prints it (print media, A4 width), in Khmer: every chart's empty-state
message lies inside its chart (a centred Khmer sentence wider than the chart lost its first syllables), and
the printed PDF carries the whole message."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlmodel import Session

from service.analytics import pages
from tests.analytics.factories import make_many
from tests.analytics.test_exports_reports import pdftotext, squeezed
from tests.support.browser import TIMEOUT_MS, launch, needs_chromium
from tests.support.factories import place

pytestmark = needs_chromium
HIDDEN_KM = "ចំនួនទាំងអស់នៅទីនេះតូចពេកមិនអាចផ្សព្វផ្សាយបានទេ៖ សូមមើលតារាង។"


@pytest.fixture
def browser():  # type: ignore[no-untyped-def]
    yield from launch()


def test_khmer_empty_states_fit_in_the_printed_report(browser, session: Session, places: None, settings) -> None:  # type: ignore[no-untyped-def]
    # Three reports: counts there are, every one too small to publish.
    make_many(session, 3, place_id=place(session, "KH-12").id, category="service_quality",
              at=datetime(2026, 8, 3, 9, 0, tzinfo=timezone.utc))
    session.commit()
    html = pages.quarterly_report_html(session, year=2026, quarter=3, language="km")
    page = browser.new_page(viewport={"width": 794, "height": 1123})  # A4 at 96 dpi
    page.set_default_timeout(TIMEOUT_MS)
    page.set_content(html)
    page.emulate_media(media="print")
    boxes = page.evaluate("""() => [...document.querySelectorAll('svg.empty text.no-data')].map(t => {
        const b = t.getBBox(), vb = t.ownerSVGElement.viewBox.baseVal;
        return {x: b.x, right: b.x + b.width, width: vb.width, text: t.textContent}; })""")
    assert any(squeezed(b["text"]) == squeezed(HIDDEN_KM) for b in boxes), boxes  # the suppressed charts say so
    assert [b for b in boxes if b["x"] < 0 or b["right"] > b["width"]] == []
    pdf = pages.quarterly_report_pdf(session, year=2026, quarter=3, language="km")
    assert squeezed(HIDDEN_KM) in squeezed(pdftotext(pdf))
