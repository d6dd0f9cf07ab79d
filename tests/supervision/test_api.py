"""The supervisor's JSON API (/api/v1): workload, tags on cases, saved views, reply templates.
Same sign-in and scope as the case API; every change audited like the pages (both databases)."""

from __future__ import annotations

from urllib.parse import quote

from sqlmodel import Session, col, select

from service.audit.models import AuditEvent
from service.supervision.models import ReplyTemplate
from tests.support.factories import make_report
from tests.support.review import bearer, csrf_of, sign_in


def test_everything_needs_a_sign_in(app, world) -> None:
    for method, path in (("GET", "/api/v1/workload"), ("GET", "/api/v1/tags"), ("GET", "/api/v1/views"),
                         ("GET", "/api/v1/reply-templates"), ("POST", f"/api/v1/cases/{world.cases['a'].id}/tags")):
        assert app.request(method, path, json={"tag": "x"}).status_code == 401, path


def test_workload_per_handler(app, engine, world) -> None:
    with Session(engine) as s:
        make_report(s, org_id=world.orgs["a"], urgency="urgent", assigned_user_id=world.users["a:handler"].id)
        s.commit()
    headers = bearer(app, "supervisor@a.test")
    found = app.get("/api/v1/workload", headers=headers)
    assert found.status_code == 200
    body = found.json()
    assert body["org_id"] == world.orgs["a"]
    rows = {r["email"]: r for r in body["rows"]}
    assert rows["handler@a.test"]["open"] == 1 and rows["handler@a.test"]["urgent"] == 1
    assert body["rows"][-1]["user_id"] is None and body["rows"][-1]["open"] == 2  # the unassigned last
    assert body["total"]["open"] == 3
    assert not any((r["email"] or "").endswith("b.test") for r in body["rows"])
    # Another organisation's workload is not there at all; a handler is refused.
    assert app.get(f"/api/v1/workload?org_id={world.orgs['b']}", headers=headers).status_code == 404
    assert app.get("/api/v1/workload", headers=bearer(app, "handler@a.test")).status_code == 403
    platform = bearer(app, "root@platform.test")
    assert app.get(f"/api/v1/workload?org_id={world.orgs['b']}", headers=platform).json()["org_id"] == world.orgs["b"]


def test_tags_on_a_case(app, engine, world) -> None:
    headers = bearer(app, "handler@a.test")
    case = world.cases["a"].id
    added = app.post(f"/api/v1/cases/{case}/tags", json={"tag": "  Police  Raid "}, headers=headers)
    assert added.status_code == 200 and added.json() == {"case_id": case, "tags": ["police raid"]}
    app.post(f"/api/v1/cases/{case}/tags", json={"tag": "ប៉ូលិស"}, headers=headers)
    assert app.get(f"/api/v1/cases/{case}/tags", headers=headers).json()["tags"] == ["police raid", "ប៉ូលិស"]
    assert app.get("/api/v1/tags", headers=headers).json() == [{"tag": "police raid", "open_cases": 1},
                                                              {"tag": "ប៉ូលិស", "open_cases": 1}]
    removed = app.delete(f"/api/v1/cases/{case}/tags/{quote('ប៉ូលិស')}", headers=headers)
    assert removed.status_code == 200 and removed.json()["tags"] == ["police raid"]
    # Refused: an identifier as a tag, a tag the case does not have, unknown fields, another organisation's case.
    assert app.post(f"/api/v1/cases/{case}/tags", json={"tag": "+85512345678"}, headers=headers).status_code == 422
    assert app.delete(f"/api/v1/cases/{case}/tags/nothing", headers=headers).status_code == 422
    assert app.post(f"/api/v1/cases/{case}/tags", json={"tag": "x", "org_id": 2}, headers=headers).status_code == 422
    other = world.cases["b"].id
    for response in (app.get(f"/api/v1/cases/{other}/tags", headers=headers),
                     app.post(f"/api/v1/cases/{other}/tags", json={"tag": "x"}, headers=headers)):
        assert response.status_code == 404 and response.json() == {"detail": "no such case"}
    assert app.get("/api/v1/tags", headers=bearer(app, "handler@b.test")).json() == []
    # The case list filters by tag (written as tags are kept).
    listed = app.get("/api/v1/cases", params={"tag": "Police Raid"}, headers=headers)
    assert [c["id"] for c in listed.json()["items"]] == [case]
    assert app.get("/api/v1/cases", params={"tag": "x" * 41}, headers=headers).status_code == 422
    with Session(engine) as s:
        entries = s.exec(select(AuditEvent).where(col(AuditEvent.action).in_(("case.tag", "case.untag")))
                         .order_by(col(AuditEvent.id))).all()
        assert [(e.action, e.actor) for e in entries] == [("case.tag", "handler@a.test")] * 2 + \
            [("case.untag", "handler@a.test")]
        assert "345" not in str([e.detail for e in s.exec(select(AuditEvent)).all()])


def test_saved_views(app, world) -> None:
    handler = bearer(app, "handler@a.test")
    supervisor = bearer(app, "supervisor@a.test")
    mine = app.post("/api/v1/views", json={"name": "Urgent police", "query": "urgency=urgent&tag=police&cursor=x"},
                    headers=handler)
    assert mine.status_code == 201
    assert mine.json()["query"] == "urgency=urgent&tag=police" and mine.json()["mine"] is True
    # Sharing is for supervisors.
    assert app.post("/api/v1/views", json={"name": "All", "query": "status=all", "shared": True},
                    headers=handler).status_code == 403
    shared = app.post("/api/v1/views", json={"name": "Overdue", "query": "overdue=1", "shared": True},
                      headers=supervisor).json()
    names = {v["name"]: v for v in app.get("/api/v1/views", headers=handler).json()}
    assert set(names) == {"Urgent police", "Overdue"} and names["Overdue"]["mine"] is False
    assert app.get("/api/v1/views", headers=bearer(app, "supervisor@b.test")).json() == []
    # Another organisation cannot delete it (404); a handler cannot delete a supervisor's shared view (403).
    assert app.delete(f"/api/v1/views/{shared['id']}", headers=bearer(app, "supervisor@b.test")).status_code == 404
    assert app.delete(f"/api/v1/views/{shared['id']}", headers=handler).status_code == 403
    assert app.delete(f"/api/v1/views/{mine.json()['id']}", headers=handler).status_code == 204
    assert app.delete(f"/api/v1/views/{mine.json()['id']}", headers=handler).status_code == 404
    assert app.post("/api/v1/views", json={"name": "x", "query": "page=2"}, headers=handler).status_code == 422


def test_reply_templates(app, engine, world) -> None:
    supervisor = bearer(app, "supervisor@a.test")
    made = app.post("/api/v1/reply-templates", json={"name": "Thanks", "text_en": "Thank you, we are on it.",
                                                     "text_km": "អរគុណ យើងកំពុងដោះស្រាយ។"}, headers=supervisor)
    assert made.status_code == 201
    template = made.json()
    assert template["segments"] == {"km": 1, "en": 1, "pt": None}
    edited = app.put(f"/api/v1/reply-templates/{template['id']}",
                     json={"name": "Thanks", "text_en": "Thank you.", "text_pt": "Obrigado."}, headers=supervisor)
    assert edited.status_code == 200 and edited.json()["text_pt"] == "Obrigado." and edited.json()["text_km"] == ""
    assert [t["name"] for t in app.get("/api/v1/reply-templates", headers=supervisor).json()] == ["Thanks"]
    # Refused: a handler (403), another organisation (404), no English text (422), an identifier (422).
    assert app.get("/api/v1/reply-templates", headers=bearer(app, "handler@a.test")).status_code == 403
    other = bearer(app, "supervisor@b.test")
    assert app.get("/api/v1/reply-templates", headers=other).json() == []
    assert app.put(f"/api/v1/reply-templates/{template['id']}", json={"name": "Mine", "text_en": "x"},
                   headers=other).status_code == 404
    assert app.delete(f"/api/v1/reply-templates/{template['id']}", headers=other).status_code == 404
    assert app.post("/api/v1/reply-templates", json={"name": "No English", "text_en": ""},
                    headers=supervisor).status_code == 422
    assert app.post("/api/v1/reply-templates", json={"name": "Call", "text_en": "Call +85512345678"},
                    headers=supervisor).status_code == 422
    assert app.delete(f"/api/v1/reply-templates/{template['id']}", headers=supervisor).status_code == 204
    assert app.get("/api/v1/reply-templates", headers=supervisor).json() == []
    # A deleted template stays deleted.
    assert app.put(f"/api/v1/reply-templates/{template['id']}", json={"name": "Thanks", "text_en": "Again"},
                   headers=supervisor).status_code == 404
    with Session(engine) as s:
        assert s.get(ReplyTemplate, template["id"]).active is False
        actions = [e.action for e in s.exec(select(AuditEvent).where(col(AuditEvent.action).like("reply_template.%"))
                                            .order_by(col(AuditEvent.id))).all()]
        assert actions == ["reply_template.create", "reply_template.update", "reply_template.deactivate"]


def test_the_web_session_needs_the_csrf_header_for_changes(app, world) -> None:
    sign_in(app, "handler@a.test")
    token = csrf_of(app.get("/").text)
    case = world.cases["a"].id
    assert app.post(f"/api/v1/cases/{case}/tags", json={"tag": "x"}).status_code == 403
    assert app.post(f"/api/v1/cases/{case}/tags", json={"tag": "x"}, headers={"X-CSRF-Token": token}).status_code == 200


def test_the_operations_are_in_the_openapi_schema(app) -> None:
    paths = app.get("/openapi.json").json()["paths"]
    assert {"/api/v1/workload", "/api/v1/tags", "/api/v1/cases/{case_id}/tags", "/api/v1/cases/{case_id}/tags/{tag}",
            "/api/v1/views", "/api/v1/views/{view_id}", "/api/v1/reply-templates",
            "/api/v1/reply-templates/{template_id}"} <= set(paths)
    assert set(paths["/api/v1/reply-templates/{template_id}"]) == {"put", "delete"}


def test_a_nul_character_is_refused_with_422_not_stored(app, world) -> None:  # type: ignore[no-untyped-def]
    """PostgreSQL cannot store NUL in text (it raised DataError: a 500); SQLite would keep it. Every
    text the supervision API takes is refused with 422 when it carries one."""
    supervisor = bearer(app, "supervisor@a.test")
    case = world.cases["a"].id
    for method, path, body in (
        ("POST", "/api/v1/reply-templates", {"name": "a\x00b", "text_en": "Thank you"}),
        ("POST", "/api/v1/reply-templates", {"name": "ok", "text_en": "Thank\x00you"}),
        ("POST", "/api/v1/views", {"name": "v\x00", "query": "urgency=urgent"}),
        ("POST", f"/api/v1/cases/{case}/tags", {"tag": "po\x00lice"}),
    ):
        answer = app.request(method, path, json=body, headers=supervisor)
        assert answer.status_code == 422, (path, body, answer.status_code, answer.text[:300])
    assert app.get("/api/v1/reply-templates", headers=supervisor).json() == []
