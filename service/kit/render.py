"""Jinja2 rendering with the Babel catalogs, the CSRF token and safe headers: the one way every package's
pages are rendered (a shared piece, so the domains' pages import it without importing service.web).

The templates are service/web/templates (the site's layout, header and the queue's pages).
"""

from __future__ import annotations

from datetime import datetime
import secrets
from pathlib import Path
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from markupsafe import Markup

from service.kit import cache, zones
from service.kit.errors import DomainError, NotFound
from service.kit.i18n import LANGUAGES, gettext
from service.kit.websession import COOKIE, LANG_COOKIE, PRE_COOKIE, csrf_ok, csrf_token

TEMPLATES = Path(__file__).resolve().parent.parent / "web" / "templates"
# auto_reload off: a template is compiled to Python once and never stat()ed again (restart after editing one).
env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
    auto_reload=False,
    cache_size=-1,
)


@pass_context
def _when(context: Any, at: Any, fmt: str = "%Y-%m-%d %H:%M", label: bool = False) -> str:
    """`{{ e.at|when }}`: a stored UTC time in the reader's zone (`tz` in the context, else the platform's);
    an ISO 8601 text (a timeline event's detail) is read first."""
    if isinstance(at, str):
        try:
            at = datetime.fromisoformat(at)
        except ValueError:
            return at
    return zones.show(at, context.get("tz") or zones.default_name(), fmt, label=label)


env.filters["when"] = _when


def time_zone(request: Request) -> str:
    """The zone this request's pages show times in (set with the signed-in user, else the platform's)."""
    return getattr(request.state, "time_zone", None) or zones.default_name()


LANGUAGE_NAMES = (("km", "ខ្មែរ"), ("en", "English"), ("pt", "Português"))


def _here(request: Request | None) -> str:
    """This page's path and query without `lang` (the header's language choice comes back here; a
    `?lang=` left in the address would outvote the choice)."""
    if request is None:
        return "/public"
    query = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "lang"])
    return request.url.path + (f"?{query}" if query else "")


def header_context(request: Request | None, *, public: bool = False) -> dict[str, Any]:
    """What the shared header (_header.html) needs besides _, lang, user and csrf."""
    settings = getattr(getattr(getattr(request, "app", None), "state", None), "settings", None)
    here = _here(request)
    return {
        "here": here,
        "here_no_lang": here,
        "public": public,
        "languages": LANGUAGE_NAMES,
        "dev_outbox": bool(settings is not None and settings.dev_outbox_on),
    }


def header(lang: str, request: Request | None = None, *, public: bool = False) -> Markup:
    """The one site header, for pages rendered outside this package's templates (the analytics pages).
    Signed-in pages get the queue's links, language form and sign-out; `public` (or no signed-in user)
    the public variant: no signed-in links, language as plain links."""
    user = None if public or request is None else getattr(request.state, "user", None)
    csrf = ""
    if user is not None and request is not None and request.cookies.get(COOKIE):
        csrf = csrf_token(request.cookies[COOKIE])
    return Markup(
        env.get_template("_header.html").render(
            _=translator(lang),
            lang=lang,
            user=user,
            csrf=csrf,
            **header_context(request, public=public or user is None),
        )
    )


def precompile() -> None:
    """Compile every template now (at start-up), so no request pays for it."""
    for name in env.list_templates(extensions=["html"]):
        env.get_template(name)


precompile()
# No inline script or style: htmx is served from /static, its config comes from a <meta> tag.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def language(request: Request) -> str:
    """The page language: `?lang=` (e.g. a link in a Portuguese SMS), else the chosen cookie,
    else the first of the browser's Accept-Language tags that we speak, else English."""
    for chosen in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        if chosen in LANGUAGES:
            return chosen
    for part in request.headers.get("accept-language", "").lower().split(",")[:10]:
        tag = part.split(";")[0].strip().split("-")[0]
        if tag in LANGUAGES:
            return tag
    return "en"


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
        return csrf_ok(request.cookies.get(COOKIE), submitted)
    # Routes that do not resolve the user (sign-in, status, language) accept a form rendered
    # before sign-in or during a session.
    return csrf_ok(request.cookies.get(PRE_COOKIE), submitted) or csrf_ok(request.cookies.get(COOKIE), submitted)


# The CSRF token every page's form sends back.
Csrf = Annotated[str, Form(max_length=128)]


def check_csrf(request: Request, token: str | None) -> None:
    """403 unless the form's CSRF token is this session's (or the pre-sign-in cookie's)."""
    if not csrf_valid(request, token):
        raise HTTPException(403, "the form expired or did not come from this site; reload the page")


def redirect(url: str) -> RedirectResponse:
    """After a form: "see other" (303), so reloading the next page does not send the form again."""
    return RedirectResponse(url, status_code=303)


def need_user(user: Any) -> Any:
    """The signed-in user (the pages' `WebUser`), else 401."""
    if user is None:
        raise HTTPException(401, "sign in first")
    return user


def need_role(user: Any, roles: tuple[str, ...], message: str) -> Any:
    """The signed-in user when their role is one of `roles`: else 401 (signed out) or 403 (`message`)."""
    user = need_user(user)
    if user.role not in roles:
        raise HTTPException(403, message)
    return user


def set_cookie(response: Any, name: str, value: str, *, max_age: int | None = None) -> None:
    # __Host- cookies: Secure, Path=/, no Domain. Browsers accept Secure cookies from http://127.0.0.1
    # and http://localhost (potentially trustworthy origins), so local development works without TLS.
    response.set_cookie(name, value, max_age=max_age, path="/", secure=True, httponly=True, samesite="strict")


def translator(lang: str) -> Callable[..., str]:
    """The templates' `_`: the catalogue's text in `lang`."""

    def _(message: str | None, **params: Any) -> str:
        if not message:
            return ""
        text = gettext(lang, message, **params)
        if text == message and ":" in message and " " not in message:
            # A code without a catalogue entry yet (e.g. an event kind another package adds).
            return message.split(":", 1)[1].replace("_", " ")
        return text

    return _


# Fragments that depend only on the language and their key (never on the user or the session),
# rendered once: the queue's filter form with its ~130 place options cost more than the rows.
_FRAGMENTS = cache.named("web.fragments", maxsize=256)


def cached_fragment(
    request: Request, template: str, key: Any, context: Callable[[], dict[str, Any]], *, holds: Any = None
) -> Markup:
    """`template` rendered with `context()` (called only when not kept yet), kept by (template,
    language, key). `holds`: an object the fragment was made from (e.g. the cached place list); a
    new object renders the fragment again."""
    lang = language(request)
    cache_key = (template, lang, time_zone(request), key)
    found = _FRAGMENTS.get(cache_key)
    if found is not None and found[0] is holds:
        return found[1]
    html = Markup(env.get_template(template).render(_=translator(lang), lang=lang, **context()))
    _FRAGMENTS.put(cache_key, (holds, html))
    return html


def fragment(request: Request, template: str, **context: Any) -> Markup:
    """A partial template rendered on its own, to be placed into a page as one piece (the queue's
    rows: rendered inside the page's block and base layout, each of their ~1,000 output pieces
    would pass through three nested template generators)."""
    lang = language(request)
    return Markup(env.get_template(template).render(_=translator(lang), lang=lang, tz=time_zone(request), **context))


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    lang = language(request)
    basis, fresh = csrf_basis(request)
    _ = translator(lang)
    html = env.get_template(template).render(
        _=_,
        lang=lang,
        csrf=csrf_token(basis),
        user=getattr(request.state, "user", None),
        request=request,
        tz=time_zone(request),
        **{**header_context(request), **context},
    )
    response = HTMLResponse(html, status_code=status_code)
    if fresh:
        set_cookie(response, PRE_COOKIE, basis)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def act_then_redirect(request: Request, session: Any, action: Callable[[], str]) -> Response:
    """A form's domain action: run it; a refusal (DomainError) rolls the session back and shows its
    sentence with its own status; otherwise commit and go to the page the action names (303)."""
    try:
        target = action()
    except DomainError as exc:
        session.rollback()
        return page(request, "error.html", exc.http_status, message=str(exc))
    session.commit()
    return RedirectResponse(target, status_code=303)


def error_status(exc: Exception, default: int = 422) -> int:
    """The HTTP status a refused change answers: 404 for something the user may not see (never a
    hint that it exists), 403 for an action their role does not allow, else `default`."""
    if isinstance(exc, NotFound):
        return 404
    if getattr(exc, "http_status", None) == 403:  # e.g. queue.actions.NotPermitted
        return 403
    return default


def attempt(
    session: Any,
    change: Callable[[], Any],
    *,
    done: Callable[[Any], Response],
    failed: Callable[[Exception, int], Response],
    default_status: int = 422,
) -> Response:
    """One change made by a form: run it, commit, answer `done(outcome)`; on a refusal (a domain
    error) roll back everything it did and answer `failed(error, status)`, the status from
    `error_status`. Every POST of the review queue and the supervisor's pages goes through here."""
    try:
        outcome = change()
    except DomainError as exc:
        session.rollback()
        return failed(exc, error_status(exc, default_status))
    session.commit()
    return done(outcome)
