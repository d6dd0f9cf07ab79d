"""POST /api/v1/auth/token: the OAuth2 password flow for the JSON API (same rules as the web sign-in)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from pydantic import BaseModel

from service.audit.service import record
from service.auth import service as auth
from service.auth.deps import SessionDep
from service.auth.principal import Principal
from service.kit import ratelimit
from service.kit.problems import Problem

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])

LOGIN_FAILURES_PER_IP = 30  # per 15 minutes, on top of the per-email wait (service/auth/service.py)
LOGIN_WINDOW = timedelta(minutes=15)


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


def client_key(request: Request) -> str:
    return f"login-ip:{request.client.host if request.client else 'unknown'}"


def throttled(session, request: Request) -> bool:
    return ratelimit.count(session, client_key(request), LOGIN_WINDOW) >= LOGIN_FAILURES_PER_IP


@router.post(
    "/token",
    response_model=Token,
    responses={
        401: {"description": "wrong credentials or second factor needed", "model": Problem},
        422: {"description": "invalid input", "model": Problem},
        429: {
            "description": "too many failed sign-ins from this address or for this email; see Retry-After",
            "model": Problem,
        },
    },
)
def token(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form(max_length=254)],
    password: Annotated[str, Form(max_length=1024)],
    grant_type: Annotated[str | None, Form(pattern="^password$")] = None,
    totp: Annotated[str | None, Form(max_length=12)] = None,
) -> Token:
    """Exchange email + password (+ `totp` when enabled) for a bearer token (30 min idle, 8 h at most)."""
    if throttled(session, request):
        raise HTTPException(429, "too many failed sign-ins from here; wait 15 minutes")
    try:
        user = auth.authenticate(session, email=username, password=password, totp=totp)
    except auth.Throttled as exc:
        ratelimit.hit(session, client_key(request))
        session.commit()
        raise HTTPException(429, str(exc), headers={"Retry-After": str(int(exc.wait.total_seconds()) + 1)}) from None
    except auth.AuthError as exc:
        ratelimit.hit(session, client_key(request))
        session.commit()
        raise HTTPException(401, str(exc), headers={"WWW-Authenticate": "Bearer"}) from None
    issued = auth.start_session(session, user=Principal.of(user), kind="bearer")
    record(session, actor=user.email, action="auth.token", object_type="user", object_id=user.id)
    session.commit()
    return Token(access_token=issued.token, expires_in=int(auth.IDLE.total_seconds()))
