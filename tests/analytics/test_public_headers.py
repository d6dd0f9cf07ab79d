"""The public page sends a strict Content-Security-Policy: no script, nothing from elsewhere, no framing."""

from __future__ import annotations


def test_public_page_has_a_content_security_policy(live_server, places) -> None:  # type: ignore[no-untyped-def]
    page = live_server.client.get("/public")
    assert page.status_code == 200
    csp = page.headers.get("content-security-policy", "")
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp and "script-src" not in csp
    assert page.headers.get("x-content-type-options") == "nosniff"
