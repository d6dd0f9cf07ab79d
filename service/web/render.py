"""Jinja2 rendering with the Babel catalogs, the CSRF token and safe headers."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from service.auth import service as auth
from service.auth.deps import COOKIE, LANG_COOKIE, PRE_COOKIE
from service.kit.i18n import LANGUAGES, gettext

TEMPLATES = Path(__file__).parent / "templates"
env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                  trim_blocks=True, lstrip_blocks=True)
# No inline script or style: htmx is served from /static, its config comes from a <meta> tag.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


def language(request: Request) -> str:
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in LANGUAGES:
        return chosen  # type: ignore[return-value]
    accept = request.headers.get("accept-language", "").lower()
    return "km" if accept.startswith("km") else "en"


def csrf_basis(request: Request) -> tuple[str, bool]:
    """What this request's CSRF token is tied to: the session token, else the pre-sign-in cookie
    (second value: True when that cookie must be set now)."""
    if getattr(request.state, "user", None) is not None and request.cookies.get(COOKIE):
        return request.cookies[COOKIE], False
    pre = request.cookies.get(PRE_COOKIE)
    if pre and 16 <= len(pre) <= 64:
        return pre, False
    return secrets.token_urlsafe(16), True


def csrf_valid(request: Request, submitted: str | None) -> bool:
    if getattr(request.state, "user", None) is not None:
        return auth.csrf_ok(request.cookies.get(COOKIE), submitted)
    # Routes that do not resolve the user (sign-in, status, language) accept a form rendered
    # before sign-in or during a session.
    return auth.csrf_ok(request.cookies.get(PRE_COOKIE), submitted) or \
        auth.csrf_ok(request.cookies.get(COOKIE), submitted)


def set_cookie(response: Any, name: str, value: str, *, max_age: int | None = None) -> None:
    # __Host- cookies: Secure, Path=/, no Domain. Browsers accept Secure cookies from http://127.0.0.1
    # and http://localhost (potentially trustworthy origins), so local development works without TLS.
    response.set_cookie(name, value, max_age=max_age, path="/", secure=True, httponly=True, samesite="strict")


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    lang = language(request)
    basis, fresh = csrf_basis(request)

    def _(message: str | None, **params: Any) -> str:
        if not message:
            return ""
        text = gettext(lang, message, **params)
        if text == message and ":" in message and " " not in message:
            # A code without a catalogue entry yet (e.g. an event kind another package adds).
            return message.split(":", 1)[1].replace("_", " ")
        return text

    html = env.get_template(template).render(
        _=_, lang=lang, csrf=auth.csrf_token(basis), user=getattr(request.state, "user", None),
        request=request, **context)
    response = HTMLResponse(html, status_code=status_code)
    if fresh:
        set_cookie(response, PRE_COOKIE, basis)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
