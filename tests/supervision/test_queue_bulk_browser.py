"""The main queue's bulk form in a real browser (Debian's chromium): it works without JavaScript, the
answer names what was done, the tags show on the rows and filter the queue; with JavaScript the rows'
30-second refresh waits while cases are ticked; at phone width nothing is wider than the screen."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from service.supervision import tags
from tests.support.browser import TIMEOUT_MS, launch, needs_chromium
from tests.support.review import PASSWORD, build_world

pytestmark = needs_chromium


@pytest.fixture
def browser():  # type: ignore[no-untyped-def]
    yield from launch()


def _sign_in(browser, base: str, *, width: int, javascript: bool):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": width, "height": 900}, java_script_enabled=javascript,
                                  is_mobile=width < 500, has_touch=width < 500)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(base + "/")
    page.get_by_label("Email").fill("handler@a.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("table.queue")
    return context, page


def test_bulk_tag_without_javascript_then_filter_by_the_tag(browser, live_server, engine) -> None:
    with Session(engine, expire_on_commit=False) as s:
        world = build_world(s)
    base = live_server.base_url
    context, page = _sign_in(browser, base, width=1280, javascript=False)
    chosen = [world.cases["a"].id, world.cases["a2"].id]
    for rid in chosen:
        page.get_by_label(f"Choose case {rid}").check()
    page.locator("#bulk-tag").fill("Stock-out")
    page.get_by_role("button", name="Add tag").click()
    result = page.locator("#bulk-result")
    assert "2 tagged" in result.inner_text()
    page.locator("#back").click()
    page.wait_for_selector("table.queue")
    page.locator(f'tr[data-case="{chosen[0]}"] a.tag').click()
    page.wait_for_selector("table.queue")
    assert page.url.endswith("/?tag=stock-out")
    shown = sorted(int(x) for x in page.locator("tr[data-case]").evaluate_all("rs => rs.map(r => r.dataset.case)"))
    assert shown == sorted(chosen)
    context.close()
    with Session(engine) as s:
        assert tags.tags_of(s, chosen[0]) == ["stock-out"]


@pytest.mark.parametrize("width", [1280, 390])
def test_ticked_rows_are_not_refreshed_away(browser, live_server, engine, width) -> None:
    with Session(engine, expire_on_commit=False) as s:
        world = build_world(s)
    context, page = _sign_in(browser, live_server.base_url, width=width, javascript=True)
    page.wait_for_function("window.htmx !== undefined")
    refresh = """() => document.getElementById('rows').dispatchEvent(
        new CustomEvent('htmx:confirm', {bubbles: true, cancelable: true}))"""
    assert page.evaluate(refresh) is True  # nothing ticked: the refresh goes ahead
    page.get_by_label(f"Choose case {world.cases['a'].id}").check()
    assert page.evaluate(refresh) is False  # a case ticked: the refresh waits
    assert page.evaluate("document.documentElement.scrollWidth") <= width + 1
    context.close()
