"""Supervisor and admin pages: dead letters with "retry now", the routing simulator, outreach worker link codes."""

from __future__ import annotations

import re

import pytest
from sqlmodel import Session, select

from service.agents.models import OutreachAgent
from service.agents.service import redeem_link_code
from service.audit.models import AuditEvent
from service.kit.clock import now
from service.kit.crypto import seal
from service.outbox.models import OutboundMessage
from tests.support.review import csrf_of, sign_in


@pytest.fixture
def dead(engine, khana):  # type: ignore[no-untyped-def]
    """A dead reply to KHANA's case whose provider error quoted the number."""
    with Session(engine, expire_on_commit=False) as s:
        row = OutboundMessage(kind="message", channel="sms", report_id=khana.id, to_sealed=seal("+85512777999"),
                              body_sealed=seal("We have read your report"), status="dead", attempts=8,
                              last_error="21211 invalid 'To' number +85512777999", next_attempt_at=now())
        s.add(row)
        s.commit()
        return row


@pytest.mark.parametrize("role", ["supervisor", "admin"])
def test_dead_letters_list_and_retry_now(app, dead, engine, role) -> None:
    sign_in(app, f"{role}@khana.test")
    page = app.get("/admin/dead-letters")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert f'action="/admin/dead-letters/{dead.id}/retry"' in page.text
    assert "+85512777999" not in page.text and "We have read" not in page.text  # no address, no text
    assert app.post(f"/admin/dead-letters/{dead.id}/retry", data={}, follow_redirects=False).status_code == 403
    response = app.post(f"/admin/dead-letters/{dead.id}/retry", data={"csrf_token": csrf_of(page.text)},
                        follow_redirects=False)
    assert response.status_code == 303
    with Session(engine) as s:
        row = s.get(OutboundMessage, dead.id)
        assert (row.status, row.attempts, row.claimed_by) == ("pending", 0, None)
        assert s.exec(select(AuditEvent).where(AuditEvent.action == "outbox.retry")).one().object_id == str(dead.id)
    assert f"/admin/dead-letters/{dead.id}/retry" not in app.get("/admin/dead-letters").text
    # Retrying a message that is no longer dead is a clear conflict, not a 500.
    again = app.post(f"/admin/dead-letters/{dead.id}/retry", data={"csrf_token": csrf_of(page.text)})
    assert again.status_code == 409


def test_handlers_and_other_organisations_cannot_see_or_retry_dead_letters(app, dead, engine) -> None:
    sign_in(app, "handler@khana.test")
    token = csrf_of(app.get("/").text)
    assert app.get("/admin/dead-letters").status_code == 403
    assert app.post(f"/admin/dead-letters/{dead.id}/retry", data={"csrf_token": token}).status_code == 403
    sign_in(app, "supervisor@legal.test")
    page = app.get("/admin/dead-letters")
    assert page.status_code == 200 and f"/admin/dead-letters/{dead.id}/retry" not in page.text
    assert app.post(f"/admin/dead-letters/{dead.id}/retry", data={"csrf_token": csrf_of(page.text)}).status_code == 404
    with Session(engine) as s:
        assert s.get(OutboundMessage, dead.id).status == "dead"


def test_routing_simulator(app, khana) -> None:
    sign_in(app, "supervisor@khana.test")
    page = app.get("/admin/routing", params={"go": "1", "category": "service_quality", "population": "plhiv",
                                            "place": "KH-2-OD-THMORKOUL-HC-CHREY"})
    assert page.status_code == 200
    assert "kp-hiv" in page.text and "khana-demo" in page.text and 'class="ladder"' in page.text
    unknown = app.get("/admin/routing", params={"go": "1", "place": "Nowhere-at-all-xyz"})
    assert unknown.status_code == 422
    assert app.get("/admin/routing").status_code == 200  # the empty form
    sign_in(app, "handler@khana.test")
    assert app.get("/admin/routing", params={"go": "1", "category": "other"}).status_code == 403


def test_outreach_link_code_is_shown_once_and_links_a_worker(app, khana, engine, settings) -> None:
    settings.telegram_bot_username = "SamlengDemoBot"
    sign_in(app, "supervisor@khana.test")
    page = app.get("/admin/agents")
    assert page.status_code == 200 and "LINK-" not in page.text
    assert app.post("/admin/agents/link-code", data={}).status_code == 403  # CSRF
    response = app.post("/admin/agents/link-code", data={"csrf_token": csrf_of(page.text)})
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    code = re.search(r"LINK-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", response.text).group(0)  # type: ignore[union-attr]
    assert f"https://t.me/SamlengDemoBot?start={code.replace('-', '')}" in response.text
    assert code not in app.get("/admin/agents").text  # shown once
    with Session(engine) as s:
        assert code not in str(s.exec(select(AuditEvent.detail)).all())
        agent = redeem_link_code(s, code=code, pseudonym="tg:test-worker")
        s.commit()
        assert agent.org_id == khana.org_id
        assert s.exec(select(OutreachAgent)).one().pseudonym == "tg:test-worker"


def test_link_code_without_bot_name_and_refusals(app, khana) -> None:
    sign_in(app, "admin@khana.test")
    response = app.post("/admin/agents/link-code", data={"csrf_token": csrf_of(app.get("/admin/agents").text)})
    assert response.status_code == 200 and "LINK-" in response.text and "t.me" not in response.text
    sign_in(app, "handler@khana.test")
    assert app.get("/admin/agents").status_code == 403
    assert app.post("/admin/agents/link-code", data={"csrf_token": csrf_of(app.get("/").text)}).status_code == 403
