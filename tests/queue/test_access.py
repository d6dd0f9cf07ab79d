"""Organisation scoping: no role of another organisation reads or changes a case, by API or web.

The matrix runs every case endpoint and method, as each role of organisation B, against a case
of organisation A; each answer is 404 (403 where the route refuses earlier) and the case,
its timeline and the outbox are unchanged afterwards.
"""

from __future__ import annotations

import pytest
from sqlmodel import Session, func, select

from service.audit.models import AuditEvent
from service.outbox.models import OutboundMessage
from service.reports.models import Report, ReportEvent
from tests.support.review import bearer, csrf_of, sign_in

API_CALLS = [
    ("GET", "/api/v1/cases/{id}", None),
    ("POST", "/api/v1/cases/{id}/claim", None),
    ("POST", "/api/v1/cases/{id}/release", None),
    ("POST", "/api/v1/cases/{id}/assign", {"user_id": "{self}"}),
    ("POST", "/api/v1/cases/{id}/notes", {"text": "peek"}),
    ("POST", "/api/v1/cases/{id}/status", {"to": "in_progress"}),
    ("POST", "/api/v1/cases/{id}/triage", {"urgency": "urgent"}),
    ("POST", "/api/v1/cases/{id}/merge", {"into_case_id": "{own}"}),
    ("POST", "/api/v1/cases/{id}/reply", {"text": "hello"}),
    ("GET", "/api/v1/cases/{id}/escalation", None),
    ("POST", "/api/v1/cases/{id}/escalate", {"after": 0}),
    ("POST", "/api/v1/cases/{id}/close", None),
    ("POST", "/api/v1/cases/{id}/reroute", {"rule_key": "default"}),
    ("GET", "/api/v1/cases/{id}/evidence/{evidence}", None),
    ("POST", "/api/v1/cases/{id}/retaliation/1/send-again", {"after": 0}),
]
WEB_CALLS = [
    ("GET", "/cases/{id}", None),
    ("POST", "/cases/{id}/claim", {}),
    ("POST", "/cases/{id}/release", {}),
    ("POST", "/cases/{id}/assign", {"user_id": "{self}"}),
    ("POST", "/cases/{id}/note", {"text": "peek"}),
    ("POST", "/cases/{id}/status", {"to": "in_progress"}),
    ("POST", "/cases/{id}/triage", {"urgency": "urgent"}),
    ("POST", "/cases/{id}/merge", {"into": "{own}"}),
    ("POST", "/cases/{id}/reply", {"text": "hello"}),
    ("POST", "/cases/{id}/escalate", {"after": "0"}),
    ("POST", "/cases/{id}/close", {}),
    ("POST", "/cases/{id}/reroute", {"rule_key": "default"}),
    ("GET", "/cases/{id}/evidence/{evidence}", None),
    ("POST", "/cases/{id}/retaliation/1/send-again", {"after": "0"}),
]
ROLES = ("b:handler", "b:supervisor", "b:admin")


@pytest.fixture
def a_evidence(world, engine, settings, tmp_path) -> int:  # type: ignore[no-untyped-def]
    """An evidence file (a small JPEG) of organisation A's case."""
    import io

    from PIL import Image

    from service.evidence.service import store_evidence

    settings.evidence_dir = str(tmp_path / "evidence")
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 20, 30)).save(out, "JPEG")
    with Session(engine) as s:
        item = store_evidence(s, report_id=world.cases["a"].id, data=out.getvalue(), settings=settings)
        s.commit()
        return int(item.id)  # type: ignore[arg-type]


def snapshot(engine, report_id: int) -> tuple:
    with Session(engine) as s:
        report = s.get(Report, report_id)
        events = s.exec(select(func.count()).where(ReportEvent.report_id == report_id)).one()
        outbox = s.exec(select(func.count()).select_from(OutboundMessage)).one()
        views = s.exec(select(func.count()).where(AuditEvent.object_id == str(report_id),
                                                  AuditEvent.action != "auth.login")).one()
        return (report.status, report.urgency, report.category, report.assigned_user_id, report.cluster_id,
                report.org_id, events, outbox, views)


def fill(body, *, user_id: int, own: int):  # type: ignore[no-untyped-def]
    if body is None:
        return None
    return {k: (user_id if v == "{self}" else own if v == "{own}" else v) for k, v in body.items()}


@pytest.mark.parametrize("role", ROLES)
def test_api_matrix_other_organisation(app, world, engine, role, a_evidence) -> None:
    target = world.cases["a"].id
    headers = bearer(app, world.users[role].email)
    before = snapshot(engine, target)
    for method, path, body in API_CALLS:
        payload = fill(body, user_id=world.users[role].id, own=world.cases["b"].id)
        response = app.request(method, path.format(id=target, evidence=a_evidence), json=payload, headers=headers)
        assert response.status_code in (403, 404), (role, method, path, response.status_code)
        assert "Org A" not in response.text
    assert snapshot(engine, target) == before
    listed = app.get("/api/v1/cases", params={"status": "all"}, headers=headers).json()["items"]
    assert {c["id"] for c in listed} == {world.cases["b"].id, world.cases["b2"].id}


@pytest.mark.parametrize("role", ROLES)
def test_web_matrix_other_organisation(app, world, engine, role, a_evidence) -> None:
    target = world.cases["a"].id
    sign_in(app, world.users[role].email)
    token = csrf_of(app.get("/").text)
    before = snapshot(engine, target)
    for method, path, body in WEB_CALLS:
        data = fill(body, user_id=world.users[role].id, own=world.cases["b"].id)
        response = app.request(method, path.format(id=target, evidence=a_evidence),
                               data=None if data is None else {**data, "csrf_token": token}, follow_redirects=False)
        assert response.status_code in (403, 404), (role, method, path, response.status_code)
        assert "Org A" not in response.text
    assert snapshot(engine, target) == before
    queue = app.get("/", params={"status": "all"}).text
    assert "Org A" not in queue and "Org B case" in queue
    # the quick filters' counts (/queue/counts) count organisation B's cases only: A's case is the only
    # financial-hardship one, and B has two open cases, one urgent
    counts = app.get("/queue/counts", params={"category": "financial_hardship"})
    assert counts.status_code == 200 and 'data-counts="1">0 matching' in counts.text
    assert 'data-counts="1">2 open' in app.get("/queue/counts").text
    assert app.get("/queue/counts", params={"status": "all", "counts": "1"}).status_code == 200
    inline = app.get("/", params={"category": "financial_hardship", "counts": "1"}).text
    assert 'data-counts="1">0 matching' in inline and "Org A" not in inline


def test_merge_into_another_organisations_case_is_refused(app, world, engine) -> None:
    headers = bearer(app, "handler@b.test")
    before = snapshot(engine, world.cases["b2"].id)
    response = app.post(f"/api/v1/cases/{world.cases['b2'].id}/merge", json={"into_case_id": world.cases["a"].id},
                        headers=headers)
    assert response.status_code == 404
    assert snapshot(engine, world.cases["b2"].id) == before


def test_assigning_to_a_user_of_another_organisation_is_refused(app, world) -> None:
    headers = bearer(app, "supervisor@b.test")
    response = app.post(f"/api/v1/cases/{world.cases['b'].id}/assign",
                        json={"user_id": world.users["a:handler"].id}, headers=headers)
    assert response.status_code == 422


def test_platform_admin_sees_every_organisation_and_unrouted_reports(app, world) -> None:
    headers = bearer(app, "root@platform.test")
    ids = {c["id"] for c in app.get("/api/v1/cases", params={"status": "all"}, headers=headers).json()["items"]}
    assert ids == {c.id for c in world.cases.values()}
    assert app.get(f"/api/v1/cases/{world.cases['a'].id}", headers=headers).status_code == 200


def test_unrouted_reports_go_to_the_intake_organisation_only(app, world, monkeypatch) -> None:
    from service.config import get_settings

    unrouted = world.cases["unrouted"].id
    a = bearer(app, "handler@a.test")
    assert app.get(f"/api/v1/cases/{unrouted}", headers=a).status_code == 404
    monkeypatch.setattr(get_settings(), "intake_org", "org-a")
    assert app.get(f"/api/v1/cases/{unrouted}", headers=a).status_code == 200
    ids = {c["id"] for c in app.get("/api/v1/cases", headers=a).json()["items"]}
    assert unrouted in ids
    b = bearer(app, "handler@b.test")
    assert app.get(f"/api/v1/cases/{unrouted}", headers=b).status_code == 404


@pytest.mark.parametrize("body", [
    {"category": "other", "org_id": 2},
    {"urgency": "urgent", "status": "closed"},
    {"category": "other", "organisation": "org-b"},
    {"urgency": "urgent", "consent_followup": True},
])
def test_mass_assignment_is_refused(app, world, engine, body) -> None:
    headers = bearer(app, "handler@a.test")
    target = world.cases["a"].id
    before = snapshot(engine, target)
    response = app.post(f"/api/v1/cases/{target}/triage", json=body, headers=headers)
    assert response.status_code == 422
    assert snapshot(engine, target) == before


@pytest.mark.parametrize("path,body", [
    ("notes", {"text": "hi", "org_id": 2}),
    ("status", {"to": "in_progress", "org_id": 2}),
    ("reply", {"text": "hi", "to": "+85599999999"}),
    ("reply", {"text": "hi", "contact": {"address": "+85599999999"}}),
    ("assign", {"user_id": 1, "status": "closed"}),
])
def test_unknown_fields_are_refused_on_every_change(app, world, engine, path, body) -> None:
    headers = bearer(app, "supervisor@a.test")
    target = world.cases["a"].id
    before = snapshot(engine, target)
    assert app.post(f"/api/v1/cases/{target}/{path}", json=body, headers=headers).status_code == 422
    assert snapshot(engine, target) == before


@pytest.mark.parametrize("path,body", [
    ("assign", {"user_id": 2**31}), ("merge", {"into_case_id": 2**31}), ("assign", {"user_id": 0}),
])
def test_ids_outside_the_database_range_are_invalid_input(app, world, path, body) -> None:
    """Found by schemathesis on PostgreSQL: an id past int4 must be a 422, not a database error."""
    headers = bearer(app, "supervisor@a.test")
    assert app.post(f"/api/v1/cases/{world.cases['a'].id}/{path}", json=body, headers=headers).status_code == 422
    assert app.get(f"/api/v1/cases/{2**31}", headers=headers).status_code == 422
