"""One site header everywhere, in real Chromium (Playwright, Debian's chromium), in English and Khmer and at
phone width (390 px): the queue, the dashboard, a scorecard and the account page share the signed-in header
(Samleng links home, Queue link, sign-out); the public page has the public variant (no signed-in links)."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from tests.support.browser import TIMEOUT_MS, launch, needs_chromium
from tests.support.review import PASSWORD, build_world

pytestmark = needs_chromium
SIGNED_IN = ["/", "/dashboard", "/scorecards/KH-12", "/account"]


@pytest.fixture
def browser():  # type: ignore[no-untyped-def]
    yield from launch()


def _nav(page) -> list[str]:  # type: ignore[no-untyped-def]
    return page.eval_on_selector_all("header.top nav a", "els => els.map(a => a.getAttribute('href'))")


@pytest.mark.parametrize("lang, width", [("en", 1280), ("km", 390)])
def test_one_header_on_every_page(browser, live_server, engine, places, lang, width) -> None:  # type: ignore[no-untyped-def]
    with Session(engine, expire_on_commit=False) as s:
        build_world(s)
    base = live_server.base_url
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    context.add_cookies([{"name": "samleng-lang", "value": lang, "url": base}])
    page = context.new_page()
    page.goto(base + "/")
    page.locator("input[name=email]").fill("supervisor@a.test")
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form[action='/login'] button[type=submit]").click()
    page.wait_for_selector("header.top #logout")

    navs = {}
    for path in SIGNED_IN:
        assert page.goto(base + path).status == 200, path  # type: ignore[union-attr]
        assert page.locator("header.top").count() == 1, path
        assert page.locator("header.top a.brand").get_attribute("href") == "/", path
        assert page.locator("header.top #logout").is_visible(), path
        assert page.evaluate("document.documentElement.lang") == lang, path
        navs[path] = _nav(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= width + 1, path
    assert all(nav == navs["/"] for nav in navs.values()), navs  # the same links everywhere
    assert "/" in navs["/dashboard"] and "/dashboard" in navs["/dashboard"] and "/account" in navs["/dashboard"]

    # The public page: the public variant even for a signed-in visitor (it is the page people share).
    page.goto(base + f"/public?lang={lang}")
    assert page.locator("header.top").count() == 1
    assert page.locator("header.top a.brand").get_attribute("href") == f"/public?lang={lang}"
    assert page.locator("header.top #logout").count() == 0 and "/" not in _nav(page) and "/dashboard" not in _nav(page)
    assert "/status" in _nav(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= width + 1

    # The language choice on the dashboard sticks (the address's ?lang= does not outvote it).
    page.goto(base + "/dashboard")
    other = "km" if lang == "en" else "en"
    page.locator(f"header.top button[name=lang][value={other}]").click()
    page.wait_for_load_state()
    assert page.url.endswith("/dashboard") and page.evaluate("document.documentElement.lang") == other

    # Sign out from the dashboard: back to the sign-in page, the dashboard no longer shown.
    page.locator("header.top #logout").click()
    page.wait_for_selector("input[name=password]")
    page.goto(base + "/dashboard")
    assert page.locator("input[name=password]").count() == 1
    context.close()
