"""Signing in and out, the page language, and a user's own account in the web app: password,
time zone, two-step sign-in; administrators list their users and reset a password.

The JSON API's sign-in (POST /api/v1/auth/token) is service/auth/routes.py; both share its
per-address limit (`client_key`, `throttled`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session, col, select

from service.audit.service import record
from service.auth import service as auth
from service.auth.deps import SessionDep, WebUser
from service.auth.principal import Principal
from service.auth.routes import client_key, throttled
from service.kit import ratelimit, zones
from service.kit.errors import DomainError
from service.kit.i18n import LANGUAGES
from service.kit.render import Csrf, check_csrf, need_role, need_user, page, redirect, set_cookie
from service.kit.websession import COOKIE, LANG_COOKIE
from service.orgs.models import Organisation, User
from service.orgs.service import set_user_time_zone

router = APIRouter(include_in_schema=False)


def _admin(user: Principal | None) -> Principal:
    return need_role(user, ("admin",), "administrators only")


# -- signing in and out, the language ---------------------------------------------------------


@router.post("/login")
def login(
    request: Request,
    session: SessionDep,
    email: Annotated[str, Form(max_length=254)],
    password: Annotated[str, Form(max_length=1024)],
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    totp: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    check_csrf(request, csrf_token)
    if throttled(session, request):
        return page(request, "login.html", 429, error="Too many failed sign-ins. Wait 15 minutes.", email=email)
    try:
        user = auth.authenticate(
            session, email=email, password=password, totp=totp or None, device=request.cookies.get(auth.DEVICE_COOKIE)
        )
    except auth.SecondFactorRequired:
        return page(
            request,
            "login.html",
            401,
            error="Enter the 6-digit code from your authenticator app.",
            email=email,
            need_totp=True,
        )
    except auth.Throttled as exc:
        ratelimit.hit(session, client_key(request))
        session.commit()
        response: Response = page(
            request,
            "login.html",
            429,
            email=email,
            error="Too many failed sign-ins for this email. Wait a few minutes and try again, "
            "or sign in from a device you have used before.",
        )
        response.headers["Retry-After"] = str(int(exc.wait.total_seconds()) + 1)
        return response
    except auth.AuthError:
        ratelimit.hit(session, client_key(request))
        session.commit()
        return page(request, "login.html", 401, error="Wrong email or password.", email=email)
    # A new token at every sign-in: a token planted before sign-in is worth nothing after it.
    issued = auth.start_session(session, user=Principal.of(user), kind="web", replaces=request.cookies.get(COOKIE))
    record(session, actor=user.email, action="auth.login", object_type="user", object_id=user.id)
    session.commit()
    response = redirect("/")
    set_cookie(response, COOKIE, issued.token)
    if not auth.known_device(request.cookies.get(auth.DEVICE_COOKIE), user.email):
        # this browser is known for this email from now: a stranger's guesses never make it wait
        set_cookie(response, auth.DEVICE_COOKIE, auth.device_token(user.email), max_age=auth.DEVICE_MAX_AGE)
    return response


@router.post("/logout")
def logout(
    request: Request, session: SessionDep, user: WebUser, csrf_token: Annotated[str, Form(max_length=128)] = ""
) -> Response:
    if user is not None:
        check_csrf(request, csrf_token)
        auth.end_session(session, token=request.cookies[COOKIE])
        record(session, actor=user.email, action="auth.logout", object_type="user", object_id=user.id)
        session.commit()
    response = redirect("/")
    response.delete_cookie(COOKIE, path="/", secure=True, httponly=True, samesite="strict")
    return response


@router.post("/lang")
def set_language(
    request: Request,
    session: SessionDep,
    user: WebUser,
    lang: Annotated[str, Form(max_length=4)],
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    next: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    check_csrf(request, csrf_token)
    # Only a path on this site: not //host, not /\\host (browsers read both as another host).
    target = next if next.startswith("/") and not next.startswith(("//", "/\\")) and "\\" not in next else "/"
    response = redirect(target)
    if lang in LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, path="/", secure=True, samesite="lax")
        row = session.get(User, user.id) if user is not None else None
        if row is not None and row.language != lang:  # the user's language: their alert emails use it
            row.language = lang
            session.add(row)
            session.commit()
    return response


# -- administrators: users --------------------------------------------------------------------


@router.get("/admin/users", response_class=HTMLResponse)
def users_page(request: Request, session: SessionDep, user: WebUser) -> Response:
    if user is None:
        return redirect("/")
    _admin(user)
    stmt = select(User).order_by(col(User.email))
    if user.org_id is not None:
        stmt = stmt.where(User.org_id == user.org_id)
    orgs = {o.id: o.slug for o in session.exec(select(Organisation)).all()}
    return page(request, "users.html", users=session.exec(stmt).all(), orgs=orgs, done=request.query_params.get("done"))


@router.post("/admin/users/{user_id}/password")
def reset_password(
    user_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    request: Request,
    session: SessionDep,
    user: WebUser,
    password: Annotated[str, Form(max_length=1024)],
    csrf_token: Csrf = "",
) -> Response:
    admin = _admin(user)
    check_csrf(request, csrf_token)
    try:
        target = auth.reset_password(session, actor=admin, user_id=user_id, password=password)
    except auth.NotAllowed:
        raise HTTPException(403, "you cannot reset this user's password") from None
    except DomainError as exc:
        session.rollback()
        return page(request, "error.html", 422, message=str(exc))
    record(session, actor=admin.email, action="user.password_reset", object_type="user", object_id=target.id)
    session.commit()
    return redirect("/admin/users?done=1")


# -- a user's own account ----------------------------------------------------------------------


@router.get("/account", response_class=HTMLResponse)
def account(request: Request, session: SessionDep, user: WebUser) -> Response:
    if user is None:
        return redirect("/")
    return page(
        request,
        "account.html",
        totp_on=auth.totp_enabled(session, user_id=user.id),
        password_done=request.query_params.get("done") == "password",
        **_zone_choice(session, user),
    )


@router.post("/account/password", response_class=HTMLResponse)
def change_password(
    request: Request,
    session: SessionDep,
    user: WebUser,
    csrf_token: Csrf = "",
    current: Annotated[str, Form(max_length=1024)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    """A new password, with the current one; every other session of the user ends."""
    user = need_user(user)
    check_csrf(request, csrf_token)
    totp_on = auth.totp_enabled(session, user_id=user.id)
    try:
        auth.change_password(session, user=user, current=current, password=password)
    except auth.NotAllowed as exc:
        return page(request, "account.html", 403, totp_on=totp_on, password_error=str(exc))
    except DomainError as exc:
        return page(request, "account.html", 422, totp_on=totp_on, password_error=str(exc))
    auth.end_all_sessions(session, user_id=user.id)
    issued = auth.start_session(session, user=user, kind="web")
    record(session, actor=user.email, action="user.password_changed", object_type="user", object_id=user.id)
    session.commit()
    response = redirect("/account?done=password")
    set_cookie(response, COOKIE, issued.token)
    return response


def _zone_choice(session: Session, user: Principal) -> dict[str, Any]:
    """The account page's time-zone form: the user's own zone (or none), their organisation's, the list."""
    org = session.get(Organisation, user.org_id) if user.org_id else None
    row = session.get(User, user.id)
    return {
        "zone_own": (row.time_zone if row else None) or "",
        "zone_org": zones.name_for(None, org),
        "zone_names": zones.all_names(),
    }


@router.post("/account/time-zone", response_class=HTMLResponse)
def account_time_zone(
    request: Request,
    session: SessionDep,
    user: WebUser,
    time_zone: Annotated[str, Form(max_length=64)] = "",
    csrf_token: Csrf = "",
) -> Response:
    """The user's own time zone ("" goes back to the organisation's). Stored times stay UTC."""
    user = need_user(user)
    check_csrf(request, csrf_token)
    account = session.get(User, user.id)
    assert account is not None, "the signed-in user's row was read with this request's session"
    try:
        row = set_user_time_zone(session, user=account, time_zone=time_zone.strip() or None)
    except DomainError:
        session.rollback()
        return page(
            request,
            "account.html",
            422,
            totp_on=auth.totp_enabled(session, user_id=user.id),
            error="Choose a time zone from the list.",
            **_zone_choice(session, user),
        )
    record(
        session,
        actor=user.email,
        action="user.time_zone",
        object_type="user",
        object_id=user.id,
        detail={"time_zone": row.time_zone},
    )
    session.commit()
    return redirect("/account?zone=saved")


@router.post("/account/totp", response_class=HTMLResponse)
def totp_setup(
    request: Request,
    session: SessionDep,
    user: WebUser,
    csrf_token: Csrf = "",
    action: Annotated[str, Form(max_length=8)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    code: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    """Two-step sign-in: `begin` (a new key; password, and the current code if one is on), `new` (the
    same, replacing an enabled key), `confirm` (the new key's first code), `off` (password and code)."""
    user = need_user(user)
    check_csrf(request, csrf_token)
    was_on = auth.totp_enabled(session, user_id=user.id)
    try:
        if action in ("begin", "new", "off"):
            try:
                auth.reauthenticate(session, user=user, password=password, code=code or None)
            except auth.NotAllowed as exc:
                session.commit()  # a code spent on a refused attempt stays spent
                return page(request, "account.html", 403, totp_on=was_on, error=str(exc))
            if action == "off":
                auth.totp_disable(session, user=user)
                record(session, actor=user.email, action="user.totp_disabled", object_type="user", object_id=user.id)
                session.commit()
                return page(request, "account.html", totp_on=False)
            uri = auth.totp_begin(session, user=user)
            session.commit()
            return page(request, "account.html", totp_on=was_on, uri=uri)
        if action != "confirm" or not code:
            return page(
                request, "account.html", 403, totp_on=was_on, error="enter your password to change two-step sign-in"
            )
        auth.totp_confirm(session, user=user, code=code)
    except auth.NotAllowed as exc:
        raise HTTPException(403, str(exc)) from None
    except DomainError as exc:
        session.rollback()
        return page(request, "account.html", 422, totp_on=was_on, uri=None, error=str(exc))
    record(session, actor=user.email, action="user.totp_enabled", object_type="user", object_id=user.id)
    session.commit()
    return page(request, "account.html", totp_on=True)
