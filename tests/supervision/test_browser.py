"""The supervisor's pages in a real headless browser (Playwright's driver, Debian's chromium), in English
and Khmer and at phone width: the workload, one handler's cases with a bulk reassignment, and the
grievance bodies (a platform administrator creates one and issues its API token)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session

from service.bodies.service import get_body, load_bodies
from service.orgs.service import create_user
from service.reports.models import Report
from tests.support.browser import TIMEOUT_MS, launch, needs_chromium
from tests.support.factories import make_report
from tests.support.review import PASSWORD, build_world

pytestmark = needs_chromium
# English page texts that must not be left on the Khmer pages.
ENGLISH = ("Workload", "Handler", "Unassigned", "Open cases each person holds", "Reassign all", "Close as duplicate",
           "With the chosen cases", "Grievance bodies", "New grievance body", "Contacts", "Deactivate",
           "Issue a new API token", "Save", "facility", "province", "active")


@pytest.fixture
def browser():  # type: ignore[no-untyped-def]
    yield from launch()


def _sign_in(browser, base: str, email: str, width: int):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": width, "height": 900}, is_mobile=width < 500,
                                  has_touch=width < 500, locale="en-GB")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(base + "/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("table.queue")
    return context, page


def _fits(page) -> None:  # type: ignore[no-untyped-def]
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width + 1


def _khmer(page) -> None:  # type: ignore[no-untyped-def]
    assert page.locator("html").get_attribute("lang") == "km"
    text = page.inner_text("main")
    left = [e for e in ENGLISH if e in text]
    assert left == [], f"English left on a Khmer page: {left}"


@pytest.mark.parametrize("width", [1280, 390])
def test_workload_and_bulk_reassignment_in_a_browser(browser, live_server, engine, width) -> None:
    with Session(engine, expire_on_commit=False) as s:
        world = build_world(s)
        dara = create_user(s, email="dara@a.test", org_slug="org-a", role="handler", password=PASSWORD)
        sophea = create_user(s, email="sophea@a.test", org_slug="org-a", role="handler", password=PASSWORD)
        late = make_report(s, org_id=world.orgs["a"], urgency="urgent", due_in=timedelta(hours=-3),
                           assigned_user_id=dara.id, category="human_rights_violation")
        other = make_report(s, org_id=world.orgs["a"], assigned_user_id=dara.id, category="service_quality")
        s.commit()
    base = live_server.base_url
    context, page = _sign_in(browser, base, "supervisor@a.test", width)
    page.get_by_role("link", name="Workload").first.click()
    page.wait_for_selector("#workload")
    _fits(page)
    row = page.locator(f"#workload tr[data-holder='{dara.id}']")
    assert row.locator(".n-open").inner_text() == "2" and row.locator(".n-overdue").inner_text() == "1"
    assert page.locator("#workload tbody tr").first.get_attribute("data-holder") == str(dara.id)
    row.get_by_role("link").click()
    page.wait_for_selector("#bulk")
    _fits(page)
    assert page.locator("#bulk tbody tr").first.get_attribute("data-case") == str(late.id)  # urgent first
    page.locator(f"#case-{late.id}").check()
    page.locator("#bulk-to").select_option(label="sophea@a.test")
    page.get_by_role("button", name="Assign", exact=True).click()
    page.wait_for_selector("#bulk-result")
    assert "Done for 1 cases." in page.inner_text("#bulk-result")
    with Session(engine) as s:
        assert s.get(Report, late.id).assigned_user_id == sophea.id
        assert s.get(Report, other.id).assigned_user_id == dara.id

    # The same pages in Khmer.
    page.goto(base + "/supervise/workload")
    page.get_by_role("button", name="ខ្មែរ").click()
    page.wait_for_selector("#workload")
    _khmer(page)
    _fits(page)
    page.goto(base + f"/supervise/workload/{dara.id}")
    page.wait_for_selector("#bulk")
    _khmer(page)
    _fits(page)
    page.goto(base + "/admin/bodies")
    page.wait_for_selector("#bodies", state="attached")
    _khmer(page)
    context.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_grievance_body_pages_in_a_browser(browser, live_server, engine, places, width) -> None:
    with Session(engine, expire_on_commit=False) as s:
        build_world(s)
        load_bodies(s)
        s.commit()
    base = live_server.base_url
    context, page = _sign_in(browser, base, "root@platform.test", width)
    page.get_by_role("link", name="Grievance bodies").first.click()
    page.wait_for_selector("#bodies", state="attached")
    _fits(page)
    page.locator("#new-body").click()
    page.wait_for_selector("#body-form")
    _fits(page)
    page.get_by_label("Short name").fill("hc-browser")
    page.get_by_label("Name in English").fill("Browser Health Centre")
    page.get_by_label("Name in Khmer").fill("មណ្ឌលសុខភាពកម្មវិធីរុករក")
    page.get_by_label("Level", exact=True).select_option("facility")
    page.get_by_label("Language of its emails and page").select_option("km")
    page.get_by_label("Focal person's SMS number").fill("+85512000555")
    page.get_by_label("Place codes it covers").fill("KH-2")
    page.get_by_role("button", name="Save").click()
    page.wait_for_selector("#bodies tr[data-body='hc-browser']")
    assert "+85512000555" not in page.content()
    page.locator("#bodies tr[data-body='hc-browser'] a").click()
    page.wait_for_selector("#issue-token")
    page.locator("#issue-token").click()
    page.wait_for_selector("#token code")
    token = page.inner_text("#token code")
    assert token.startswith("sbt_")
    _fits(page)
    with Session(engine) as s:
        body = get_body(s, "hc-browser")
        assert body.language == "km" and body.api_token_hash and token not in body.api_token_hash

    page.get_by_role("button", name="ខ្មែរ").click()
    page.wait_for_selector("#body-form")
    _khmer(page)
    _fits(page)
    page.goto(base + "/admin/bodies")
    _khmer(page)
    page.locator("#bodies tr[data-body='hc-browser'] a").click()
    page.locator("#toggle-active").click()
    page.wait_for_selector("#bodies", state="attached")
    with Session(engine) as s:
        assert get_body(s, "hc-browser").active is False
    context.close()


TAG_ENGLISH = ("Tags", "New tag", "Add tag", "Saved views", "Name of this view", "Save this view", "No case has this tag")


@pytest.mark.parametrize("width", [1280, 390])
def test_tags_and_saved_views_in_a_browser(browser, live_server, engine, width) -> None:
    with Session(engine, expire_on_commit=False) as s:
        world = build_world(s)
    case = world.cases["a"].id
    base = live_server.base_url
    context, page = _sign_in(browser, base, "handler@a.test", width)
    page.goto(base + f"/cases/{case}")
    page.locator("#new-tag").fill("Police")
    page.locator("#tag-form button").click()
    page.wait_for_selector("#tags a:has-text('police')")
    _fits(page)
    page.locator("#tags a:has-text('police')").click()
    page.wait_for_selector(f"#tagged tr[data-case='{case}']")
    _fits(page)
    page.goto(base + "/?urgency=normal")
    page.locator("#saved-views").click()
    page.get_by_label("Name of this view").fill("Normal cases")
    page.get_by_role("button", name="Save this view").click()
    page.wait_for_selector("#views")
    _fits(page)
    page.get_by_role("link", name="Normal cases").click()
    page.wait_for_url("**/?urgency=normal")

    page.goto(base + "/tags?tag=police")
    page.get_by_role("button", name="ខ្មែរ").click()
    page.wait_for_selector("#tagged")
    _khmer(page)
    assert not [e for e in TAG_ENGLISH if e in page.inner_text("main")]
    _fits(page)
    page.goto(base + "/filters")
    _khmer(page)
    assert not [e for e in TAG_ENGLISH if e in page.inner_text("main")]
    _fits(page)
    page.goto(base + f"/cases/{case}")
    assert not [e for e in TAG_ENGLISH if e in page.inner_text("#tags")]
    context.close()


REPLY_ENGLISH = ("Reply templates", "New reply template", "No reply templates yet", "Replies your handlers")


@pytest.mark.parametrize("width", [1280, 390])
def test_reply_templates_in_a_browser(browser, live_server, engine, width) -> None:
    with Session(engine, expire_on_commit=False) as s:
        build_world(s)
    base = live_server.base_url
    context, page = _sign_in(browser, base, "supervisor@a.test", width)
    page.get_by_role("link", name="Reply templates").first.click()
    page.wait_for_selector("#template-form")
    _fits(page)
    page.locator("#tpl-name").fill("Visit")
    page.locator("#tpl-en").fill("Thank you. A peer worker will visit the health centre this week.")
    khmer = "យើងបានទទួលរបាយការណ៍របស់អ្នក ហើយកំពុងដោះស្រាយ។" * 2
    page.locator("#tpl-km").fill(khmer)
    # The SMS length follows the typing (htmx): 100 Khmer characters are two UCS-2 parts.
    page.wait_for_selector("#segments-km[data-segments='2']")
    assert "UCS-2" in page.inner_text("#segments-km")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_selector("#templates tbody tr")
    assert "GSM-7" in page.inner_text("#templates") and "UCS-2" in page.inner_text("#templates")
    _fits(page)
    page.get_by_role("button", name="ខ្មែរ").click()
    page.wait_for_selector("#templates")
    _khmer(page)
    assert not [e for e in REPLY_ENGLISH if e in page.inner_text("main")]
    _fits(page)
    context.close()
