"""Revoking an approved quote from the dashboard: POST with the CSRF token, supervisors of the case's
organisation only, audited, and the quote gone from the public page and the quarterly report/PDF."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from service.analytics import pages, service as svc
from service.analytics.models import ApprovedQuote
from service.audit.models import AuditEvent
from service.kit.clock import now
from tests.analytics.test_exports_reports import pdftotext
from tests.analytics.test_web import _as, data  # noqa: F401  (fixture: orgs A and B with reports)
from tests.support.review import csrf_of

QUOTE = "nurse asked for money"  # from org A's case "Org A case: nurse asked for money"


def _approve(engine, case_id: int) -> int:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        quote = svc.approve_quote(s, report_id=case_id, excerpt=QUOTE, approved_by="supervisor@a.test",
                                  role="supervisor")
        s.commit()
        return quote.id  # type: ignore[return-value]


def _state(engine, quote_id: int) -> tuple[bool, list[AuditEvent]]:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        quote = s.get(ApprovedQuote, quote_id)
        audit = list(s.exec(select(AuditEvent).where(AuditEvent.action == "quote.revoke")).all())
        return quote.revoked_at is not None, audit  # type: ignore[union-attr]


def _quarter() -> tuple[int, int]:
    at = now()
    return at.year, (at.month - 1) // 3 + 1


def test_revoke_needs_the_csrf_token_and_is_audited(app, data, engine) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    quote_id = _approve(engine, data.cases["a"].id)
    _as(app, "supervisor")
    page = app.get("/dashboard")
    form = f'action="/quotes/{quote_id}/revoke"'
    assert form in page.text and QUOTE in page.text
    token = csrf_of(page.text)
    url = f"/quotes/{quote_id}/revoke"
    assert app.post(url, data={}, follow_redirects=False).status_code == 403
    assert app.post(url, data={"csrf_token": "0" * 64}, follow_redirects=False).status_code == 403
    assert app.get(url).status_code in (404, 405)  # a GET changes nothing
    assert _state(engine, quote_id) == (False, [])
    ok = app.post(url, data={"csrf_token": token}, follow_redirects=False)
    assert ok.status_code == 303 and ok.headers["location"].startswith("/dashboard?quote=revoked")
    revoked, audit = _state(engine, quote_id)
    assert revoked
    assert [(a.actor, a.object_type, a.object_id, a.detail) for a in audit] == [
        ("supervisor@a.test", "quote", str(quote_id), {"report_id": data.cases["a"].id})]
    after = app.get("/dashboard?quote=revoked").text
    assert "Quote revoked." in after and form not in after and QUOTE not in after
    # Twice is harmless: still revoked, one audit entry.
    assert app.post(url, data={"csrf_token": token}, follow_redirects=False).status_code == 303
    assert len(_state(engine, quote_id)[1]) == 1
    assert app.post("/quotes/999999/revoke", data={"csrf_token": token}, follow_redirects=False).status_code == 404
    assert app.post("/quotes/abc/revoke", data={"csrf_token": token}, follow_redirects=False).status_code == 404


@pytest.mark.parametrize("who,status", [("signed_out", 401), ("handler", 403), ("other_org_supervisor", 404)])
def test_revoke_refused(app, data, engine, who: str, status: int) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    quote_id = _approve(engine, data.cases["a"].id)
    _as(app, who)
    token = csrf_of(app.get("/").text) if who != "signed_out" else ""
    response = app.post(f"/quotes/{quote_id}/revoke", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == status
    assert _state(engine, quote_id) == (False, [])
    if who == "other_org_supervisor":  # another organisation's quote is not even listed
        assert f"/quotes/{quote_id}/revoke" not in app.get("/dashboard").text


def test_platform_admin_may_revoke_any_quote(app, data, engine) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    quote_id = _approve(engine, data.cases["a"].id)
    _as(app, "platform")
    token = csrf_of(app.get("/dashboard").text)
    assert app.post(f"/quotes/{quote_id}/revoke", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    revoked, audit = _state(engine, quote_id)
    assert revoked and [a.actor for a in audit] == ["root@platform.test"]


def test_revoked_quote_leaves_the_report_and_the_public_page(app, data, engine) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    quote_id = _approve(engine, data.cases["a"].id)
    year, quarter = _quarter()
    org_a = data.orgs["a"]
    with Session(engine) as s:
        assert QUOTE in pages.quarterly_report_html(s, year=year, quarter=quarter, org_id=org_a)
    assert QUOTE in app.get("/public").text
    _as(app, "supervisor")
    token = csrf_of(app.get("/dashboard").text)
    assert app.post(f"/quotes/{quote_id}/revoke", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    with Session(engine) as s:
        assert QUOTE not in pages.quarterly_report_html(s, year=year, quarter=quarter, org_id=org_a)
        assert QUOTE not in pages.quarterly_report_html(s, year=year, quarter=quarter, language="km", org_id=org_a)
    assert QUOTE not in app.get("/public").text


@pytest.mark.slow
def test_revoked_quote_leaves_the_pdf(app, data, engine) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    quote_id = _approve(engine, data.cases["a"].id)
    year, quarter = _quarter()
    _as(app, "supervisor")
    url = f"/reports/quarterly/{year}Q{quarter}.pdf?lang=en"
    before = app.get(url)
    assert before.status_code == 200 and QUOTE in " ".join(pdftotext(before.content).split())
    token = csrf_of(app.get("/dashboard").text)
    assert app.post(f"/quotes/{quote_id}/revoke", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    after = app.get(url)
    assert after.status_code == 200
    text = " ".join(pdftotext(after.content).split())
    assert "Quarterly evidence report" in text and QUOTE not in text
