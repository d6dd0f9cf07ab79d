"""FastAPI dependencies: the request's database session and the signed-in user.

    SessionDep   a Session on the app's engine (service/db.py: pages below auth use it from there);
                 routes commit, it rolls back whatever they did not
    ApiUser      the API caller: `Authorization: Bearer <token>` from POST /api/v1/auth/token, or the
                 web session cookie (then an unsafe method also needs the X-CSRF-Token header)
    WebUser      the web app's user from the session cookie, or None when signed out

Both answer a `Principal` (service/auth/principal.py), read with the session in one query.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlmodel import Session

from service.auth import service as auth
from service.db import SessionDep
from service.auth.principal import Principal
from service.kit import zones
from service.kit.websession import COOKIE, csrf_ok

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def api_credentials(request: Request) -> tuple[str, str] | None:
    """The API caller's token and its session kind: the bearer token, else the web session cookie."""
    token = _bearer(request)
    if token is not None:
        return token, "bearer"
    cookie = request.cookies.get(COOKIE)
    return (cookie, "web") if cookie else None


NOT_SIGNED_IN = "not signed in or session expired"
NOT_SIGNED_IN_HEADERS = {"WWW-Authenticate": "Bearer"}


def _keep(session: Session, principal: Principal) -> Principal:
    if principal.touch_at is not None:
        auth.touch(session, caller=principal)
        session.commit()  # keeps the session's last-seen time (at most once a minute)
    return principal


def api_user(request: Request, session: SessionDep) -> Principal:
    credentials = api_credentials(request)
    if credentials is None:
        raise HTTPException(401, NOT_SIGNED_IN, headers=NOT_SIGNED_IN_HEADERS)
    token, kind = credentials
    found = auth.resolve_caller(session, token=token, kind=kind)
    if (
        found is not None
        and kind == "web"
        and request.method not in SAFE_METHODS
        and not csrf_ok(token, request.headers.get("x-csrf-token"))
    ):
        raise HTTPException(403, "missing or wrong X-CSRF-Token")
    if found is None:
        raise HTTPException(401, NOT_SIGNED_IN, headers=NOT_SIGNED_IN_HEADERS)
    request.state.user = _keep(session, found)
    return found


ApiUser = Annotated[Principal, Depends(api_user)]


def web_user(request: Request, session: SessionDep) -> Principal | None:
    cookie = request.cookies.get(COOKIE)
    found = auth.resolve_caller(session, token=cookie, kind="web") if cookie else None
    if found is None:
        return None
    request.state.user = _keep(session, found)
    request.state.time_zone = zones.name_for(found)  # the zone every page shows times in
    return found


WebUser = Annotated[Principal | None, Depends(web_user)]
