"""/api/docs works offline: Swagger UI is served from our own /static (vendored from the npm package
swagger-ui-dist, Apache-2.0), under the same Content-Security-Policy as every page, with no inline
script and no other host."""

from __future__ import annotations

import re

import pytest

from tests.support.browser import TIMEOUT_MS, launch, needs_chromium


def test_the_docs_page_loads_only_our_own_assets(app) -> None:  # type: ignore[no-untyped-def]
    response = app.get("/api/docs")
    assert response.status_code == 200
    html = response.text
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(s.startswith("/static/") for s in sources), sources
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>\s*\S", html), "inline script would need 'unsafe-inline'"
    for source in sources:
        asset = app.get(source)
        assert asset.status_code == 200 and len(asset.content) > 100, source


@needs_chromium
@pytest.mark.slow
def test_the_docs_render_with_no_network_beyond_samleng(live_server) -> None:  # type: ignore[no-untyped-def]
    for browser in launch():
        page = browser.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        elsewhere: list[str] = []
        problems: list[str] = []

        def route(r) -> None:  # type: ignore[no-untyped-def]
            if r.request.url.startswith(live_server.base_url):
                r.continue_()
            else:  # offline: nothing else answers
                elsewhere.append(r.request.url)
                r.abort()

        page.route("**/*", route)
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc: problems.append(str(exc)))
        page.goto(f"{live_server.base_url}/api/docs")
        page.wait_for_selector(".swagger-ui .info .title")
        assert "Samleng" in page.inner_text(".swagger-ui .info .title")
        page.wait_for_selector(".opblock-summary-path[data-path=\"/api/v1/cases\"]")
        assert elsewhere == [], elsewhere
        assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems
