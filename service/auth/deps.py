"""FastAPI dependencies: the request's database session and the signed-in user.

    SessionDep   a Session on the app's engine; routes commit, it rolls back whatever they did not
    CurrentUser  the API caller: `Authorization: Bearer <token>` from POST /api/v1/auth/token, or the
                 web session cookie (then an unsafe method also needs the X-CSRF-Token header)
    WebUser      the web app's user from the session cookie, or None when signed out
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlmodel import Session

from service.auth import service as auth
from service.orgs.models import User
from service.orgs.zones import name_for_user

COOKIE = "__Host-samleng"
PRE_COOKIE = "__Host-samleng-pre"  # random value that CSRF tokens of signed-out forms are tied to
LANG_COOKIE = "samleng-lang"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def get_db(request: Request) -> Iterator[Session]:
    with Session(request.app.state.engine, expire_on_commit=False) as session:
        try:
            yield session
        finally:
            session.rollback()


SessionDep = Annotated[Session, Depends(get_db)]


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


def api_user(request: Request, session: SessionDep) -> User:
    credentials = api_credentials(request)
    found = auth.resolve(session, token=credentials[0], kind=credentials[1]) if credentials else None
    if found is not None and credentials[1] == "web" and request.method not in SAFE_METHODS and \
            not auth.csrf_ok(credentials[0], request.headers.get("x-csrf-token")):  # type: ignore[index]
        raise HTTPException(403, "missing or wrong X-CSRF-Token")
    if found is None:
        raise HTTPException(401, NOT_SIGNED_IN, headers=NOT_SIGNED_IN_HEADERS)
    if session.dirty:
        session.commit()  # keeps the session's last-seen time (at most once a minute)
    request.state.user = found[0]
    return found[0]


CurrentUser = Annotated[User, Depends(api_user)]


def web_user(request: Request, session: SessionDep) -> User | None:
    cookie = request.cookies.get(COOKIE)
    found = auth.resolve(session, token=cookie, kind="web") if cookie else None
    if found is None:
        return None
    if session.dirty:
        session.commit()
    request.state.user = found[0]
    request.state.time_zone = name_for_user(session, found[0])  # the zone every page shows times in
    return found[0]


WebUser = Annotated[User | None, Depends(web_user)]
