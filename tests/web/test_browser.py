"""The review queue in a real headless browser: Playwright's bundled driver driving Debian's chromium.

Log in, see the urgent case on top, filter, open it, correct its triage, add a note, reply to the
reporter, log out; the same page in Khmer. Screenshots of the main pages: refresh docs/screenshots/ with
`SAMLENG_SCREENSHOTS=1 python3 dev.py test tests/web/test_browser.py`.
The app runs under a real uvicorn on http://127.0.0.1: Chromium keeps `Secure` cookies for
loopback origins, so the `__Host-` session cookie works there without TLS.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from service.outbox.models import OutboundMessage
from service.reports.models import Report, ReportEvent
from tests.support.browser import TIMEOUT_MS, launch, needs_chromium
from tests.support.factories import make_report
from tests.support.review import PASSWORD, build_world

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
pytestmark = needs_chromium


@pytest.fixture
def browser():  # type: ignore[no-untyped-def]
    yield from launch()


def shoot(page, name: str, backend: str, folder: Path | None = None) -> None:  # type: ignore[no-untyped-def]
    """Screenshots go to docs/screenshots/ only with SAMLENG_SCREENSHOTS=1 (so a test run leaves the
    committed images alone); otherwise to a temporary folder, still proving the page renders."""
    if backend != "sqlite":  # one set is enough
        return
    target = SHOTS if os.environ.get("SAMLENG_SCREENSHOTS") == "1" else Path(os.environ.get("TMPDIR", "/tmp"))
    target.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(target / f"samleng-{name}.png" if target != SHOTS else target / f"{name}.png"),
                    full_page=True)


def test_handler_journey_in_a_real_browser(browser, live_server, engine, database_url) -> None:
    from datetime import timedelta

    backend = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    with Session(engine, expire_on_commit=False) as s:
        world = build_world(s)
        org_a = world.orgs["a"]
        for i in range(6):
            make_report(s, org_id=org_a, narrative=f"Waited all day at the health centre, visit {i}",
                        due_in=timedelta(hours=24 + i), category="service_quality")
        urgent = make_report(s, org_id=org_a, urgency="urgent", due_in=timedelta(hours=-1),
                             narrative="Police took our condoms and threatened to arrest us near the market",
                             category="human_rights_violation", population="sex_worker",
                             consent_address="+85512000777",
                             triage_reasons=["mentions police and arrest", "threat of violence"],
                             triage_confidence=0.82, category_source="triage")
        s.commit()
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    base = live_server.base_url

    page.goto(base + "/")
    shoot(page, "login", backend)
    page.get_by_label("Email").fill("handler@a.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("table.queue")
    cookie = next(c for c in context.cookies() if c["name"] == "__Host-samleng")
    assert cookie["secure"] and cookie["httpOnly"] and cookie["sameSite"] == "Strict"

    first_row = page.locator("table.queue tbody tr").first
    assert first_row.get_attribute("data-case") == str(urgent.id)
    assert "overdue" in first_row.inner_text()
    # The quick filters' counts come in a second request after the page (htmx, hx-trigger="load").
    page.wait_for_selector("#counts [data-counts]")
    assert page.inner_text("#counts [data-counts]").startswith("9 open")
    assert page.locator("#counts a.pill.urgent .n").inner_text() == "1"
    assert page.locator("#counts a.pill.overdue .n").inner_text() == "1"
    shoot(page, "queue", backend)

    page.get_by_label("Search").fill("condoms")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**q=condoms**")
    rows = page.locator("table.queue tbody tr")
    assert rows.count() == 1 and rows.first.get_attribute("data-case") == str(urgent.id)
    page.wait_for_selector("#counts [data-counts]")  # the new page counts again, within its filters but the search
    assert "The counts leave out the text search." in page.inner_text("#counts")

    rows.first.locator("a").first.click()
    page.wait_for_url(f"**/cases/{urgent.id}")
    assert "mentions police and arrest" in page.inner_text("#triage")
    shoot(page, "case", backend)

    triage = page.locator("#triage-form")
    triage.get_by_label("Category").select_option("stigma_discrimination")
    triage.get_by_role("button", name="Correct triage").click()
    page.wait_for_url(f"**/cases/{urgent.id}#timeline")
    assert "Triage corrected" in page.inner_text("#timeline")

    page.locator("#notes textarea").fill("Called the outreach team; meeting tomorrow")
    page.get_by_role("button", name="Add note").click()
    page.wait_for_url(f"**/cases/{urgent.id}#timeline")
    assert "Called the outreach team" in page.inner_text("#timeline")

    page.locator("#reply-form textarea").fill("We are working on this with a lawyer.")
    page.wait_for_selector("#segments:has-text('1 SMS')")
    page.get_by_role("button", name="Send reply").click()
    page.wait_for_url(f"**/cases/{urgent.id}#timeline")
    timeline = page.inner_text("#timeline")
    assert "We are working on this with a lawyer." in timeline and "Message sent" in timeline
    assert "85512000777" not in page.content()
    shoot(page, "case-after", backend)

    with Session(engine) as s:
        report = s.get(Report, urgent.id)
        assert report.category == "stigma_discrimination" and report.category_source == "handler"
        kinds = [e.kind for e in s.exec(select(ReportEvent).where(ReportEvent.report_id == urgent.id)
                                        .order_by(col(ReportEvent.id))).all()]
        assert kinds[-3:] == ["triage_corrected", "note", "reply"]
        assert len(s.exec(select(OutboundMessage).where(OutboundMessage.report_id == urgent.id)).all()) == 1

    # The same page in Khmer.
    page.get_by_role("button", name="ខ្មែរ").click()
    page.wait_for_url(f"**/cases/{urgent.id}")
    assert page.locator("html").get_attribute("lang") == "km"
    assert "ប្រវត្តិ" in page.inner_text("#timeline") and "ការចាត់ថ្នាក់" in page.inner_text("#triage")
    # The Khmer glyphs come from a real Khmer font (fonts-khmeros), not boxes.
    family = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert "Khmer OS" in family
    shoot(page, "case-km", backend)
    page.goto(base + "/")
    page.wait_for_selector("#counts [data-counts]")
    shoot(page, "queue-km", backend)
    page.get_by_role("button", name="English").click()

    page.locator("#logout").click()
    page.wait_for_selector("form[action='/login']")
    assert not [c for c in context.cookies() if c["name"] == "__Host-samleng"]
    page.goto(base + f"/cases/{urgent.id}")
    assert page.locator("form[action='/login']").count() == 1

    page.goto(base + "/status")
    shoot(page, "status", backend)
    context.close()

    # On a phone: the queue still reads (rows become stacked cards), nothing wider than the screen.
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    phone.set_default_timeout(TIMEOUT_MS)
    small = phone.new_page()
    small.goto(base + "/")
    small.get_by_label("Email").fill("handler@a.test")
    small.get_by_label("Password").fill(PASSWORD)
    small.get_by_role("button", name="Sign in").click()
    small.wait_for_selector("table.queue")
    assert small.evaluate("document.documentElement.scrollWidth") <= 390 + 1
    assert small.locator("table.queue tbody tr").first.get_attribute("data-case") == str(urgent.id)
    shoot(small, "queue-phone", backend)
    phone.close()
