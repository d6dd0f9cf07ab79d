"""Sign-in, session cookies, expiry, rotation, lockout, throttling, TOTP, password reset."""

from __future__ import annotations

import pyotp
from sqlmodel import Session, select

from service.auth import service as auth
from service.kit.websession import COOKIE
from service.auth.models import AuthSession
from tests.support.review import PASSWORD, bearer, csrf_of, sign_in


def test_login_sets_a_host_cookie_and_stores_only_its_hash(app, world, engine) -> None:
    response = sign_in(app, "handler@a.test")
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    for attribute in ("HttpOnly", "Secure", "Path=/", "SameSite=strict"):
        assert attribute.lower() in cookie.lower()
    assert "domain=" not in cookie.lower()
    token = app.cookies[COOKIE]
    assert len(token) >= 22  # 128 bits, url-safe base64
    with Session(engine) as s:
        rows = s.exec(select(AuthSession)).all()
    assert [r.token_hash for r in rows] == [auth.token_hash(token)]
    assert token not in rows[0].token_hash
    assert "Case queue" in app.get("/").text


def test_login_rotates_the_session_token(app, world, engine) -> None:
    sign_in(app, "handler@a.test")
    planted = app.cookies[COOKIE]
    token = csrf_of(app.get("/").text)
    # Signing in again (e.g. someone planted a cookie before sign-in) gives a new token and kills the old one.
    response = app.post("/login", data={"email": "handler@a.test", "password": PASSWORD, "csrf_token": token},
                        follow_redirects=False)
    assert response.status_code == 303
    fresh = app.cookies[COOKIE]
    assert fresh != planted
    with Session(engine) as s:
        assert auth.resolve(s, token=planted) is None
        assert auth.resolve(s, token=fresh) is not None


def test_wrong_password_is_refused(app, world) -> None:
    response = sign_in(app, "handler@a.test", "not-the-password")
    assert response.status_code == 401
    assert COOKIE not in app.cookies
    assert "Wrong email or password" in response.text


def test_idle_sessions_end_after_30_minutes(app, world, clock) -> None:
    sign_in(app, "handler@a.test")
    clock.advance(minutes=29)
    assert "Case queue" in app.get("/").text  # activity keeps it alive
    clock.advance(minutes=29)
    assert "Case queue" in app.get("/").text
    clock.advance(minutes=31)
    page = app.get("/")
    assert "Case queue" not in page.text and 'action="/login"' in page.text


def test_sessions_end_after_8_hours_however_active(app, world, clock) -> None:
    sign_in(app, "handler@a.test")
    for _ in range(7 * 3):  # every 20 minutes for 7 hours
        clock.advance(minutes=20)
        assert "Case queue" in app.get("/").text
    clock.advance(minutes=61)
    assert 'action="/login"' in app.get("/").text


def test_bearer_tokens_follow_the_same_rules(app, world, clock) -> None:
    headers = bearer(app, "handler@a.test")
    assert app.get("/api/v1/cases", headers=headers).status_code == 200
    clock.advance(minutes=31)
    assert app.get("/api/v1/cases", headers=headers).status_code == 401
    assert app.get("/api/v1/cases", headers={"Authorization": "Bearer made-up"}).status_code == 401
    assert app.get("/api/v1/cases").status_code == 401


def test_token_endpoint_refuses_wrong_password(app, world) -> None:
    response = app.post("/api/v1/auth/token", data={"username": "handler@a.test", "password": "nope-nope-nope"})
    assert response.status_code == 401
    assert "access_token" not in response.text


def test_five_failures_make_the_next_attempt_wait(app, world, clock) -> None:
    for _ in range(auth.MAX_FAILURES):
        assert sign_in(app, "handler@a.test", "wrong-password-123").status_code == 401
    waiting = sign_in(app, "handler@a.test")
    assert waiting.status_code == 429 and "Wait a few minutes" in waiting.text
    api = app.post("/api/v1/auth/token", data={"username": "handler@a.test", "password": PASSWORD})
    assert api.status_code == 429 and int(api.headers["Retry-After"]) > 0
    clock.advance(seconds=auth.wait_after(auth.MAX_FAILURES).total_seconds() + 1)
    assert sign_in(app, "handler@a.test").status_code == 303


def test_login_throttled_per_client_address(app, world) -> None:
    from service.auth.routes import LOGIN_FAILURES_PER_IP

    for i in range(LOGIN_FAILURES_PER_IP):
        app.post("/api/v1/auth/token", data={"username": f"nobody{i}@x.test", "password": "whatever-123"})
    response = app.post("/api/v1/auth/token", data={"username": "handler@a.test", "password": PASSWORD})
    assert response.status_code == 429


def test_admin_resets_a_password_which_ends_sessions_and_lifts_lockout(app, world, engine) -> None:
    victim = world.users["a:handler"]
    for _ in range(auth.MAX_FAILURES):
        sign_in(app, victim.email, "wrong-password-123")
    with Session(engine) as s:
        old = auth.start_session(s, user=victim, kind="bearer").token
        s.commit()
    sign_in(app, "admin@a.test")
    token = csrf_of(app.get("/admin/users").text)
    response = app.post(f"/admin/users/{victim.id}/password", data={"password": "a-brand-new-password",
                                                                     "csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    with Session(engine) as s:
        assert auth.resolve(s, token=old) is None
    assert sign_in(app, victim.email, "a-brand-new-password").status_code == 303


def test_an_admin_cannot_reset_another_organisations_user(app, world) -> None:
    sign_in(app, "admin@b.test")
    token = csrf_of(app.get("/admin/users").text)
    assert "handler@a.test" not in app.get("/admin/users").text
    response = app.post(f"/admin/users/{world.users['a:handler'].id}/password",
                        data={"password": "a-brand-new-password", "csrf_token": token})
    assert response.status_code == 403
    assert sign_in(app, "handler@a.test").status_code == 303


def test_handlers_cannot_reach_admin_pages(app, world) -> None:
    sign_in(app, "handler@a.test")
    assert app.get("/admin/users").status_code == 403
    assert app.get("/admin/audit").status_code == 403


def test_totp_second_factor_for_a_supervisor(app, world, engine, clock) -> None:
    from service.kit import clock as kit_clock

    def code() -> str:
        return pyotp.TOTP(secret).at(kit_clock.now())

    user = world.users["a:supervisor"]
    with Session(engine) as s:
        uri = auth.totp_begin(s, user=user)
        secret = pyotp.parse_uri(uri).secret
        auth.totp_confirm(s, user=user, code=code())
        s.commit()
    clock.advance(seconds=31)  # each code signs in once: the next step's code
    needs = sign_in(app, user.email)
    assert needs.status_code == 401 and "6-digit code" in needs.text
    assert sign_in(app, user.email, totp="000000" if code() != "000000" else "111111").status_code == 401
    assert sign_in(app, user.email, totp=code()).status_code == 303
    clock.advance(seconds=31)
    api = app.post("/api/v1/auth/token", data={"username": user.email, "password": PASSWORD})
    assert api.status_code == 401
    api = app.post("/api/v1/auth/token", data={"username": user.email, "password": PASSWORD, "totp": code()})
    assert api.status_code == 200


def test_totp_setup_is_only_for_supervisors_and_admins(app, world, engine) -> None:
    with Session(engine) as s:
        try:
            auth.totp_begin(s, user=world.users["a:handler"])
        except auth.NotAllowed:
            pass
        else:
            raise AssertionError("a handler could turn on TOTP")


def test_logout_ends_the_session(app, world, engine) -> None:
    sign_in(app, "handler@a.test")
    token = app.cookies[COOKIE]
    response = app.post("/logout", data={"csrf_token": csrf_of(app.get("/").text)}, follow_redirects=False)
    assert response.status_code == 303
    with Session(engine) as s:
        assert auth.resolve(s, token=token) is None
