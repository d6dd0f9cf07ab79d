"""CSRF: every form needs the session's token; nothing changes state on GET."""

from __future__ import annotations

import pytest
from sqlmodel import Session, func, select

from service.audit.models import AuditEvent
from service.kit.websession import COOKIE
from service.reports.models import Report, ReportEvent
from tests.support.review import PASSWORD, csrf_of, sign_in

FORMS = [
    ("/cases/{id}/claim", {}), ("/cases/{id}/release", {}), ("/cases/{id}/note", {"text": "x"}),
    ("/cases/{id}/status", {"to": "in_progress"}), ("/cases/{id}/triage", {"urgency": "urgent"}),
    ("/cases/{id}/merge", {"into": "{other}"}), ("/cases/{id}/reply", {"text": "hi"}),
    ("/cases/{id}/assign", {"user_id": "{me}"}),
    ("/cases/{id}/escalate", {"after": "0"}), ("/cases/{id}/close", {}), ("/cases/{id}/reroute", {"rule_key": "default"}),
    ("/cases/{id}/retaliation/1/send-again", {"after": "0"}),
]


def events(engine, report_id: int) -> int:
    with Session(engine) as s:
        return int(s.exec(select(func.count()).where(ReportEvent.report_id == report_id)).one())


@pytest.mark.parametrize("path,data", FORMS)
@pytest.mark.parametrize("token", ["missing", "wrong", "other-session"])
def test_forms_without_the_sessions_token_change_nothing(app, world, engine, path, data, token) -> None:
    case = world.cases["a"]
    if token == "other-session":
        sign_in(app, "supervisor@a.test")
        stolen = csrf_of(app.get("/").text)  # a valid token, but tied to another session
    sign_in(app, "supervisor@a.test")
    body = {k: (str(world.cases["a2"].id) if v == "{other}" else str(world.users["a:supervisor"].id)
                if v == "{me}" else v) for k, v in data.items()}
    if token == "wrong":
        body["csrf_token"] = "0" * 64
    elif token == "other-session":
        body["csrf_token"] = stolen
    before = events(engine, case.id)
    response = app.post(path.format(id=case.id), data=body, follow_redirects=False)
    assert response.status_code == 403
    assert events(engine, case.id) == before


def test_the_right_token_works(app, world, engine) -> None:
    case = world.cases["a"]
    sign_in(app, "handler@a.test")
    token = csrf_of(app.get(f"/cases/{case.id}").text)
    response = app.post(f"/cases/{case.id}/note", data={"text": "called the clinic", "csrf_token": token},
                        follow_redirects=False)
    assert response.status_code == 303
    assert events(engine, case.id) == 2  # received + note


def test_login_form_needs_its_token(app, world) -> None:
    app.get("/")
    response = app.post("/login", data={"email": "handler@a.test", "password": PASSWORD}, follow_redirects=False)
    assert response.status_code == 403
    assert COOKIE not in app.cookies


def test_api_with_the_cookie_needs_the_csrf_header(app, world, engine) -> None:
    case = world.cases["a"]
    sign_in(app, "handler@a.test")
    token = csrf_of(app.get("/").text)
    before = events(engine, case.id)
    assert app.post(f"/api/v1/cases/{case.id}/notes", json={"text": "x"}).status_code == 403
    assert events(engine, case.id) == before
    ok = app.post(f"/api/v1/cases/{case.id}/notes", json={"text": "x"}, headers={"X-CSRF-Token": token})
    assert ok.status_code == 200


def test_no_state_change_by_get(app, world, engine) -> None:
    case = world.cases["a"]
    sign_in(app, "supervisor@a.test")
    with Session(engine) as s:
        before = s.get(Report, case.id).model_dump()
    paths = [p.format(id=case.id) for p, _ in FORMS] + [
        "/logout", "/lang", "/login", f"/cases/{case.id}/reply/segments", "/account/totp",
        f"/admin/users/{world.users['a:handler'].id}/password",
        *(f"/api/v1/cases/{case.id}/{a}" for a in ("claim", "release", "assign", "notes", "status", "triage",
                                                    "merge", "reply", "escalate", "close", "reroute")),
        "/admin/agents/link-code", f"/admin/dead-letters/{case.id}/retry",
    ]
    for path in paths:
        answer = app.get(path, params={"text": "x", "to": "closed", "urgency": "urgent"})
        if path == f"/cases/{case.id}/escalate":  # the confirmation page: it shows, the POST from it sends
            assert answer.status_code == 200 and 'id="escalate-confirm"' in answer.text
            continue
        assert answer.status_code in (404, 405), path
    with Session(engine) as s:
        after = s.get(Report, case.id).model_dump()
        changes = s.exec(select(AuditEvent.action).where(AuditEvent.action != "auth.login")).all()
    assert after == before
    assert changes == []
    assert events(engine, case.id) == 1
    assert "Case queue" in app.get("/").text  # still signed in: GET /logout did not sign out


@pytest.mark.parametrize("target", ["//evil.example/x", "/\\evil.example", "https://evil.example/"])
def test_language_switch_never_redirects_off_site(app, world, target) -> None:
    page = app.get("/status").text
    response = app.post("/lang", data={"lang": "km", "next": target, "csrf_token": csrf_of(page)},
                        follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/"


def test_the_list_refresh_after_expiry_sends_the_browser_to_sign_in(app, world, clock) -> None:
    sign_in(app, "handler@a.test")
    clock.advance(minutes=31)
    response = app.get("/", headers={"HX-Request": "true"})
    assert response.status_code == 204 and response.headers["HX-Redirect"] == "/"


def test_absurd_ids_are_client_errors(app, world) -> None:
    sign_in(app, "root@platform.test")
    for path in ("/cases/99999999999999999999", "/cases/0", "/admin/audit?before=99999999999999999999&case=99999999999999999999"):
        assert app.get(path).status_code in (200, 404, 422), path
    assert app.get("/cases/99999999999999999999").status_code == 422


def test_nul_characters_are_refused_not_crashing(app, world) -> None:
    """PostgreSQL text cannot hold NUL: such input is a 4xx everywhere, never a 5xx."""
    headers = {"Authorization": app.post("/api/v1/auth/token", data={"username": "handler@a.test",
               "password": "correct-horse-battery"}).json()["access_token"]}
    headers = {"Authorization": f"Bearer {headers['Authorization']}"}
    assert app.get("/api/v1/cases", params={"q": "a\x00b"}, headers=headers).status_code == 422
    assert app.post("/api/v1/auth/token", data={"username": "x\x00@y", "password": "p" * 12}).status_code == 401
    sign_in(app, "root@platform.test")
    assert app.get("/admin/audit", params={"actor": "a\x00", "action": "b\x00"}).status_code == 200
    assert app.get("/", params={"q": "cl\x00inic"}).status_code == 200
