"""Escalate, close and reroute from the case page and the API; evidence files; the ladder on the page.

Real HTTP through the in-process app (TestClient over https), real routing rules and bodies from
the bundled seeds, both databases.
"""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from sqlmodel import Session, col, select

from service.audit.models import AuditEvent
from service.escalation import service as esc
from service.escalation.models import Escalation
from service.evidence.service import store_evidence
from service.kit import zones
from service.outbox.models import OutboundMessage
from service.reports.models import Report
from tests.escalation.factories import make_case
from tests.support.review import bearer, csrf_of, sign_in

def escalations(engine, report_id: int) -> list[Escalation]:
    with Session(engine) as s:
        return list(s.exec(select(Escalation).where(Escalation.report_id == report_id)
                           .order_by(col(Escalation.id))).all())


def body_messages(engine, report_id: int) -> list[OutboundMessage]:
    with Session(engine) as s:
        return list(s.exec(select(OutboundMessage).where(OutboundMessage.report_id == report_id,
                                                         col(OutboundMessage.body_id).is_not(None))).all())


def audits(engine, action: str) -> list[AuditEvent]:
    with Session(engine) as s:
        return list(s.exec(select(AuditEvent).where(AuditEvent.action == action).order_by(col(AuditEvent.id))).all())


def test_escalate_from_the_case_page_once_even_when_submitted_twice(app, khana, engine) -> None:
    sign_in(app, "handler@khana.test")
    page = app.get(f"/cases/{khana.id}")
    assert page.status_code == 200
    assert 'action="/cases/%d/escalate"' % khana.id in page.text and 'name="after" value="0"' in page.text
    assert "Not escalated yet." in page.text and 'class="ladder"' in page.text
    form = {"csrf_token": csrf_of(page.text), "after": "0"}
    first = app.post(f"/cases/{khana.id}/escalate", data=form, follow_redirects=False)
    second = app.post(f"/cases/{khana.id}/escalate", data=form, follow_redirects=False)  # the double click
    assert first.status_code == second.status_code == 303
    [escalation] = escalations(engine, khana.id)
    messages = body_messages(engine, khana.id)
    assert messages and {m.body_id for m in messages} == {escalation.body_id}
    assert len([m for m in messages if m.kind == "email"]) == 1
    with Session(engine) as s:
        assert s.get(Report, khana.id).status == "escalated"
    [entry] = audits(engine, "case.escalate")
    assert entry.actor == "handler@khana.test" and entry.detail["after"]["escalation"] == escalation.id
    shown = app.get(f"/cases/{khana.id}").text
    # the page shows the deadline in the reader's zone (Phnom Penh: the next day after 17:00 UTC)
    assert zones.show(escalation.due_at, "Asia/Phnom_Penh")[:10] in shown and 'aria-current="step"' in shown
    assert f'name="after" value="{escalation.id}"' in shown
    assert "<dd>waiting</dd>" in shown  # the escalation's status
    app.cookies.set("samleng-lang", "km")
    khmer = app.get(f"/cases/{khana.id}").text
    assert "ស្ថានភាពការបញ្ជូនបន្ត" in khmer and "កំពុងរង់ចាំ" in khmer and ">បញ្ជូនបន្ត…</button>" in khmer


def test_escalate_needs_the_csrf_token(app, khana, engine) -> None:
    sign_in(app, "handler@khana.test")
    app.get(f"/cases/{khana.id}")
    for data in ({"after": "0"}, {"after": "0", "csrf_token": "0" * 64}):
        assert app.post(f"/cases/{khana.id}/escalate", data=data, follow_redirects=False).status_code == 403
    assert escalations(engine, khana.id) == []
    assert body_messages(engine, khana.id) == []


@pytest.mark.parametrize("role", ["handler", "supervisor", "admin"])
def test_another_organisation_cannot_escalate_close_or_reroute(app, khana, engine, role) -> None:
    sign_in(app, f"{role}@legal.test")
    token = csrf_of(app.get("/").text)
    for path, data in (("escalate", {"after": "0"}), ("close", {}), ("reroute", {"rule_key": "drug-detention"})):
        response = app.post(f"/cases/{khana.id}/{path}", data={**data, "csrf_token": token}, follow_redirects=False)
        assert response.status_code == 404, path
    headers = bearer(app, f"{role}@legal.test")
    for path, body in (("escalate", {"after": 0}), ("close", None), ("reroute", {"rule_key": "drug-detention"})):
        assert app.post(f"/api/v1/cases/{khana.id}/{path}", json=body, headers=headers).status_code == 404, path
    assert app.get(f"/api/v1/cases/{khana.id}/escalation", headers=headers).status_code == 404
    assert escalations(engine, khana.id) == []
    with Session(engine) as s:
        report = s.get(Report, khana.id)
        assert report.status == "received" and report.org_id == khana.org_id


def test_api_escalate_is_idempotent_and_shows_the_ladder(app, khana, engine) -> None:
    headers = bearer(app, "handler@khana.test")
    first = app.post(f"/api/v1/cases/{khana.id}/escalate", json={"after": 0}, headers=headers)
    again = app.post(f"/api/v1/cases/{khana.id}/escalate", json={"after": 0}, headers=headers)
    assert first.status_code == again.status_code == 200
    assert first.json()["created"] is True and again.json()["created"] is False
    assert first.json()["escalation"]["id"] == again.json()["escalation"]["id"]
    state = app.get(f"/api/v1/cases/{khana.id}/escalation", headers=headers).json()
    assert state["current"]["status"] == "open" and state["rule"] == "kp-hiv"
    assert [r["current"] for r in state["ladder"]].count(True) == 1
    # A deliberate second escalation (from the new state) climbs the ladder.
    up = app.post(f"/api/v1/cases/{khana.id}/escalate", json={"after": first.json()["escalation"]["id"]},
                  headers=headers).json()
    assert up["created"] is True and up["escalation"]["rung"] > first.json()["escalation"]["rung"]
    assert len(escalations(engine, khana.id)) == 2
    assert app.post(f"/api/v1/cases/{khana.id}/escalate", json={"after": 0, "org_id": 1},
                    headers=headers).status_code == 422


def test_not_ours_then_reroute_moves_the_case_to_the_other_organisation(app, khana, engine) -> None:
    headers = bearer(app, "handler@khana.test")
    escalation_id = app.post(f"/api/v1/cases/{khana.id}/escalate", json={"after": 0},
                             headers=headers).json()["escalation"]["id"]
    # While the body has not answered, rerouting is refused.
    assert app.post(f"/api/v1/cases/{khana.id}/reroute", json={"rule_key": "drug-detention"},
                    headers=headers).status_code == 409
    with Session(engine) as s:
        esc.record_response(s, s.get(Escalation, escalation_id), action="not_ours", text="Not our matter")
        s.commit()
    sign_in(app, "handler@khana.test")
    page = app.get(f"/cases/{khana.id}").text
    assert "not theirs" in page and 'action="/cases/%d/reroute"' % khana.id in page
    assert app.post(f"/cases/{khana.id}/reroute", data={"rule_key": "no-such-rule", "csrf_token": csrf_of(page)},
                    follow_redirects=False).status_code == 409
    moved = app.post(f"/cases/{khana.id}/reroute", data={"rule_key": "drug-detention", "csrf_token": csrf_of(page)},
                     follow_redirects=False)
    assert moved.status_code == 303 and moved.headers["location"] == "/?rerouted=1"
    with Session(engine) as s:
        report = s.get(Report, khana.id)
        from service.orgs.models import Organisation
        assert s.get(Organisation, report.org_id).slug == "legal-aid-demo"
    [entry] = audits(engine, "case.reroute")
    assert entry.detail["before"]["rule"] == "kp-hiv" and entry.detail["after"]["rule"] == "drug-detention"
    assert app.get(f"/cases/{khana.id}").status_code == 404  # no longer KHANA's case
    legal = bearer(app, "handler@legal.test")
    assert app.get(f"/api/v1/cases/{khana.id}", headers=legal).status_code == 200


def test_close_cancels_the_waiting_escalation(app, khana, engine) -> None:
    headers = bearer(app, "supervisor@khana.test")
    assert app.post(f"/api/v1/cases/{khana.id}/escalate", json={"after": 0}, headers=headers).status_code == 200
    assert app.post(f"/api/v1/cases/{khana.id}/close", headers=headers).status_code == 200
    assert app.post(f"/api/v1/cases/{khana.id}/close", headers=headers).status_code == 409
    with Session(engine) as s:
        assert s.get(Report, khana.id).status == "closed"
    assert [e.status for e in escalations(engine, khana.id)] == ["cancelled"]
    [entry] = audits(engine, "case.close")
    assert entry.detail == {"before": {"status": "escalated"}, "after": {"status": "closed"}}


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (24, 16), (200, 30, 30)).save(out, "JPEG")
    return out.getvalue()


def test_evidence_is_served_to_the_cases_organisation_only(app, khana, engine, settings) -> None:
    with Session(engine, expire_on_commit=False) as s:
        item = store_evidence(s, report_id=khana.id, data=_jpeg(), settings=settings)
        other = make_case(s, narrative="Another case", route=True)
        theirs = store_evidence(s, report_id=other.id, data=_jpeg(), settings=settings)
        s.commit()
    headers = bearer(app, "handler@khana.test")
    response = app.get(f"/api/v1/cases/{khana.id}/evidence/{item.id}", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/jpeg" and response.headers["cache-control"] == "no-store"
    assert Image.open(io.BytesIO(response.content)).size == (24, 16)
    # Evidence of another case is not reachable through this case.
    assert app.get(f"/api/v1/cases/{khana.id}/evidence/{theirs.id}", headers=headers).status_code == 404
    assert app.get(f"/api/v1/cases/{khana.id}/escalation", headers=headers).json()["evidence"] == [item.id]
    # The web page lists it with a link, and the link streams the file.
    sign_in(app, "handler@khana.test")
    page = app.get(f"/cases/{khana.id}").text
    assert f'href="/cases/{khana.id}/evidence/{item.id}"' in page
    web = app.get(f"/cases/{khana.id}/evidence/{item.id}")
    assert web.status_code == 200 and web.headers["cache-control"] == "no-store" and web.content == response.content
    views = [a.detail for a in audits(engine, "case.view") if a.detail.get("via") == "evidence"]
    assert {v["channel"] for v in views} == {"api", "web"} and {v["evidence"] for v in views} == {item.id}
    # Another organisation: 404, by API and web, and nothing is audited for them.
    legal = bearer(app, "supervisor@legal.test")
    assert app.get(f"/api/v1/cases/{khana.id}/evidence/{item.id}", headers=legal).status_code == 404
    sign_in(app, "admin@legal.test")
    denied = app.get(f"/cases/{khana.id}/evidence/{item.id}")
    assert denied.status_code == 404 and denied.content != response.content
    assert not [a for a in audits(engine, "case.view") if a.actor.endswith("@legal.test")]


def test_the_page_shows_no_escalate_button_without_a_route(app, khana, engine) -> None:
    with Session(engine, expire_on_commit=False) as s:
        bare = make_case(s, narrative="Not routed yet", route=False)
        bare.org_id = khana.org_id
        s.add(bare)
        s.commit()
    sign_in(app, "handler@khana.test")
    page = app.get(f"/cases/{bare.id}").text
    assert "has no route yet" in page and "/escalate" not in page
    assert re.search(r"<h2>Evidence</h2>", page)
