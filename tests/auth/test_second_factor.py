"""Changing a second factor needs the password (and the current code when one is on); a code
signs in once: the same code again, even within its 30-second window, is refused."""

from __future__ import annotations

import pyotp
from sqlmodel import Session

from service.auth import service as auth
from service.kit import clock as kit_clock
from tests.support.review import PASSWORD, csrf_of, sign_in


def _code(secret: str) -> str:
    return pyotp.TOTP(secret).at(kit_clock.now())


def _enable(engine, user) -> str:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        uri = auth.totp_begin(s, user=user)
        secret = pyotp.parse_uri(uri).secret
        auth.totp_confirm(s, user=user, code=_code(secret))
        s.commit()
    return secret


def _account_post(app, **data: str):  # type: ignore[no-untyped-def]
    token = csrf_of(app.get("/account").text)
    return app.post("/account/totp", data={"csrf_token": token, **data}, follow_redirects=False)


def test_a_session_alone_cannot_switch_the_second_factor_off(app, world, engine, clock) -> None:
    user = world.users["a:supervisor"]
    secret = _enable(engine, user)
    clock.advance(seconds=31)
    assert sign_in(app, user.email, totp=_code(secret)).status_code == 303
    # Only the CSRF token (as a stolen session or an unattended screen has): refused, still on.
    refused = _account_post(app)
    assert refused.status_code == 403
    with Session(engine) as s:
        assert auth.totp_enabled(s, user_id=user.id)
    # The password without the current code: refused too.
    assert _account_post(app, action="new", password=PASSWORD).status_code == 403
    # A wrong password with a right code: refused.
    clock.advance(seconds=31)
    assert _account_post(app, action="off", password="not-the-password", code=_code(secret)).status_code == 403
    with Session(engine) as s:
        assert auth.totp_enabled(s, user_id=user.id)
    # Password and current code: a new key is offered, and the old one keeps working until it is confirmed.
    offered = _account_post(app, action="new", password=PASSWORD, code=_code(secret))
    assert offered.status_code == 200 and "otpauth://" in offered.text
    with Session(engine) as s:
        assert auth.totp_enabled(s, user_id=user.id)
    clock.advance(seconds=31)
    assert _account_post(app, action="off", password=PASSWORD, code=_code(secret)).status_code == 200
    with Session(engine) as s:
        assert not auth.totp_enabled(s, user_id=user.id)


def test_setting_up_a_second_factor_asks_for_the_password(app, world, engine) -> None:
    user = world.users["a:admin"]
    sign_in(app, user.email)
    assert _account_post(app).status_code == 403
    assert _account_post(app, action="begin", password="wrong-password-123").status_code == 403
    offered = _account_post(app, action="begin", password=PASSWORD)
    assert offered.status_code == 200
    secret = pyotp.parse_uri(offered.text.split('class="secret">')[1].split("<")[0].replace("&amp;", "&")).secret
    assert _account_post(app, action="confirm", code=_code(secret)).status_code == 200
    with Session(engine) as s:
        assert auth.totp_enabled(s, user_id=user.id)


def test_a_code_is_refused_the_second_time(app, world, engine, clock) -> None:
    user = world.users["a:supervisor"]
    secret = _enable(engine, user)
    clock.advance(seconds=31)  # the code used to confirm is spent
    code = _code(secret)
    assert sign_in(app, user.email, totp=code).status_code == 303
    again = sign_in(app, user.email, totp=code)
    assert again.status_code == 401
    api = app.post("/api/v1/auth/token", data={"username": user.email, "password": PASSWORD, "totp": code})
    assert api.status_code == 401
    clock.advance(seconds=31)
    assert sign_in(app, user.email, totp=_code(secret)).status_code == 303


def test_the_code_that_confirmed_a_key_cannot_sign_in(app, world, engine) -> None:
    user = world.users["b:supervisor"]
    with Session(engine) as s:
        secret = pyotp.parse_uri(auth.totp_begin(s, user=user)).secret
        code = _code(secret)
        auth.totp_confirm(s, user=user, code=code)
        s.commit()
    assert sign_in(app, user.email, totp=code).status_code == 401
