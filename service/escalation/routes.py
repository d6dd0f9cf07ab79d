"""Body-facing HTTP: the one-page response form (signed link, no account) and the integrators' API.

Handler-facing actions (escalate, reroute, close, dead letters, rule editing) are service
functions; the review-queue web app wires them behind its own login.
"""

from __future__ import annotations

import hmac
from functools import lru_cache
from pathlib import Path
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlsplit

from fastapi import APIRouter, Depends, Header, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlmodel import Session, select

from service.bodies.models import GrievanceBody
from service.bodies.service import body_by_token
from service.escalation import links, texts
from service.escalation import service as escalation_service
from service.escalation.models import WAITING, Escalation
from service.escalation.schemas import BodyResponseIn, EscalationOut
from service.kit import zones
from service.kit.errors import DomainError, InvalidInput
from service.kit.i18n import LANGUAGES, gettext, translations
from service.kit.models import require_id
from service.reports.models import Report, ReportEvent

router = APIRouter(tags=["escalation"])
# The body's own published figures on its response page: (session, body id, language) -> [(label, value)].
# Registered by the analytics package (built on this one: escalation imports nothing of it).
FIGURE_SOURCES: list[Callable[[Session, int, str], list[tuple[str, str]]]] = []
TEMPLATES = Path(__file__).parent / "templates"
MAX_FORM_BYTES = 16_384
_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
}


@lru_cache(maxsize=4)
def _env(lang: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]), extensions=["jinja2.ext.i18n"]
    )
    env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]  # added by the i18n extension at run time
    return env


def _page(lang: str, status: int = 200, **context: Any) -> HTMLResponse:
    html = _env(lang).get_template("respond.html").render(lang=lang, **context)
    return HTMLResponse(html, status_code=status, headers=_HEADERS)


def _lang(request: Request, body: GrievanceBody | None, form: dict[str, str] | None = None) -> str:
    wanted = (form or {}).get("lang") or request.query_params.get("lang")
    if wanted in LANGUAGES:
        return wanted
    return body.language if body is not None else "en"


def _history(session: Session, escalation: Escalation, lang: str, zone: str | None = None) -> list[str]:
    events = session.exec(
        select(ReportEvent).where(ReportEvent.report_id == escalation.report_id, ReportEvent.kind == "body_response")
    ).all()
    out = []
    for event in events:
        if event.detail.get("escalation") != escalation.id:
            continue
        label = gettext(lang, texts.ACTION_LABELS.get(event.detail.get("action", ""), ""))
        out.append(
            f"{zones.local_date(event.created_at, zone)}: {label}"
            + (f" - {event.detail['text']}" if event.detail.get("text") else "")
        )
    return out


def _now_with(lang: str, holder: GrievanceBody | None) -> str:
    if holder is None:
        return gettext(lang, texts.PAGE_NO_LONGER_YOURS)
    return gettext(lang, texts.PAGE_NOW_WITH, body=holder.name_km if lang == "km" else holder.name_en)


def _render_case(
    session: Session,
    request: Request,
    token: str,
    *,
    lang: str | None = None,
    message: str | None = None,
    error: bool = False,
    status: int = 200,
) -> HTMLResponse:
    try:
        escalation = escalation_service.escalation_for_token(session, token)
    except links.ExpiredLink:
        return _page(lang or "en", 410, token=None, message=gettext(lang or "en", texts.PAGE_EXPIRED), error=True)
    except links.BadLink:
        return _page(lang or "en", 403, token=None, message=gettext(lang or "en", texts.PAGE_BAD_LINK), error=True)
    body = session.get(GrievanceBody, escalation.body_id)
    assert body is not None, "an escalation's body stays while it does"
    lang = lang or _lang(request, body)
    if escalation.dossier_id is not None:
        return _render_dossier(
            session, request, token, escalation, body, lang=lang, message=message, error=error, status=status
        )
    report = session.get(Report, escalation.report_id)
    assert report is not None, "an escalation's report stays while it does"
    info = escalation_service.summary(session, escalation, report=report, body=body)
    if lang != body.language:
        info["category_label"] = gettext(lang, texts.CATEGORY_LABELS.get(report.category, texts.CATEGORY_LABELS[None]))
        info["urgency_label"] = gettext(lang, texts.URGENCY_LABELS.get(report.urgency, report.urgency))
        info["due_local"] = zones.said(escalation.due_at, info["time_zone"], lang) if escalation.due_at else ""
    open_, actions, message = _actions(session, escalation, lang, message)
    figures = [row for source in FIGURE_SOURCES for row in source(session, escalation.body_id, lang)]
    return _page(
        lang,
        status,
        token=token,
        case=info,
        open=open_,
        csrf=links.csrf_token(token),
        actions=actions,
        history=_history(session, escalation, lang, info["time_zone"]),
        message=message,
        error=error,
        figures=figures,
        figures_note=gettext(lang, texts.PAGE_FIGURES_NOTE, threshold=request.app.state.settings.suppression_threshold),
    )


def _actions(
    session: Session, escalation: Escalation, lang: str, message: str | None
) -> tuple[bool, list[tuple[str, str]], str | None]:
    """(the form is open, the answers offered, the message): a passed-on office may only record what it did."""
    open_ = escalation.status in (*WAITING, "responded", "expired", "superseded")
    if not open_ and message is None:
        message = gettext(lang, texts.PAGE_ALREADY)
    actions = [(k, gettext(lang, v)) for k, v in texts.ACTION_LABELS.items()]
    is_current, holder = escalation_service.holder_of(session, escalation)
    if open_ and not is_current:
        actions = [(k, v) for k, v in actions if k == "action_taken"]
        notice = _now_with(lang, holder)
        message = notice if message is None else f"{message} {notice}"
    return open_, actions, message


def _render_dossier(
    session: Session,
    request: Request,
    token: str,
    escalation: Escalation,
    body: GrievanceBody,
    *,
    lang: str,
    message: str | None,
    error: bool,
    status: int,
) -> HTMLResponse:
    """A dossier's page: its suppressed contents exactly as sent to the body (in the body's language), never
    a case number, a narrative or an unapproved quote; the same answers as for a case."""
    info = escalation_service.dossier_summary(session, escalation, body=body)
    if lang != body.language:
        info["due_local"] = zones.said(escalation.due_at, info["time_zone"], lang) if escalation.due_at else ""
    open_, actions, message = _actions(session, escalation, lang, message)
    history = []
    for label, stamp, text in (
        (texts.ACTION_LABELS["acknowledge"], escalation.acknowledged_at, ""),
        (texts.ACTION_LABELS["action_taken"], escalation.responded_at, escalation.response_masked or ""),
    ):
        if stamp is not None:
            history.append(
                f"{zones.local_date(stamp, info['time_zone'])}: {gettext(lang, label)}" + (f" - {text}" if text else "")
            )
    contents = info["contents"]
    tables = [(gettext(lang, heading), contents[key]) for heading, key in texts.DOSSIER_TABLES if key in contents]
    return _page(
        lang,
        status,
        token=token,
        dossier=info,
        tables=tables,
        quotes=contents.get("quotes", []),
        quotes_withheld=contents.get("quotes_withheld", False),
        suppressed_note=gettext(lang, texts.DOSSIER_SUPPRESSED, threshold=contents.get("threshold", "")),
        open=open_,
        csrf=links.csrf_token(token),
        actions=actions,
        history=history,
        message=message,
        error=error,
    )


@router.get("/respond/{token}", response_class=HTMLResponse, include_in_schema=False)
def respond_page(token: str, request: Request) -> HTMLResponse:
    with Session(request.app.state.engine) as session:
        return _render_case(session, request, token)


async def _read_form(request: Request) -> dict[str, str]:
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/x-www-form-urlencoded":
        raise HTTPException(415, "expected a form")
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_FORM_BYTES:
            raise HTTPException(413, "answer too long")
    try:
        return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=False))
    except UnicodeDecodeError:
        raise HTTPException(400, "form must be UTF-8") from None


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin is None
    public = urlsplit(request.app.state.settings.public_url)
    mine = f"{public.scheme}://{public.netloc}"
    return origin.rstrip("/") == mine


@router.post("/respond/{token}", response_class=HTMLResponse, include_in_schema=False)
async def respond_submit(token: str, request: Request) -> HTMLResponse:
    form = await _read_form(request)
    lang = form.get("lang") if form.get("lang") in LANGUAGES else None
    if not _same_origin(request) or not hmac.compare_digest(form.get("csrf", ""), links.csrf_token(token)):
        return _page(lang or "en", 403, token=None, message=gettext(lang or "en", texts.PAGE_BAD_LINK), error=True)

    def unit(session: Session) -> tuple[str, bool, int]:
        try:
            escalation = escalation_service.escalation_for_token(session, token)
        except links.ExpiredLink:
            return "expired", True, 410
        except links.BadLink:
            return "bad", True, 403
        try:
            escalation_service.record_response(
                session, escalation, action=form.get("action", ""), text=form.get("text", ""), via="link"
            )
        except escalation_service.AlreadyAnswered:
            return "already", False, 200
        except escalation_service.NotCurrent:
            return "moved", True, 409
        except DomainError as exc:
            return str(exc), True, 400
        return "ok", False, 200

    outcome, error, status = await request.app.state.writer.run(unit)
    with Session(request.app.state.engine) as session:
        if outcome == "expired":
            return _page(lang or "en", 410, token=None, message=gettext(lang or "en", texts.PAGE_EXPIRED), error=True)
        if outcome == "bad":
            return _page(lang or "en", 403, token=None, message=gettext(lang or "en", texts.PAGE_BAD_LINK), error=True)
        msg_lang = lang or "en"
        message = {
            "ok": gettext(msg_lang, texts.PAGE_THANKS),
            "already": gettext(msg_lang, texts.PAGE_ALREADY),
            "moved": gettext(msg_lang, texts.PAGE_NOT_SETTLED),
        }.get(outcome, outcome)
        return _render_case(session, request, token, lang=lang, message=message, error=error, status=status)


# -- the API for integrating bodies -------------------------------------------------------------
def _body(request: Request, authorization: Annotated[str | None, Header()] = None) -> int:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(401, "bearer token required", headers={"WWW-Authenticate": "Bearer"})
    with Session(request.app.state.engine) as session:
        body = body_by_token(session, token.strip())
        if body is None:
            raise HTTPException(401, "invalid token", headers={"WWW-Authenticate": "Bearer"})
        return require_id(body)


BodyId = Annotated[int, Depends(_body)]


@router.get("/api/v1/body/escalations", response_model=list[EscalationOut])
def list_escalations(request: Request, body_id: BodyId) -> list[EscalationOut]:
    """The cases waiting for this body's answer."""
    with Session(request.app.state.engine) as session:
        body = session.get(GrievanceBody, body_id)
        assert body is not None, "the bearer token's body was read in this request"
        out = []
        for escalation in escalation_service.body_escalations(session, body):
            if escalation.dossier_id is not None:
                continue  # a dossier is answered through its link (its contents are not a case's fields)
            report = session.get(Report, escalation.report_id)
            assert report is not None, "an escalation's report stays while it does"
            info = escalation_service.summary(session, escalation, report=report, body=body)
            out.append(
                EscalationOut(
                    escalation=escalation.id,
                    case=info["case"],
                    status=escalation.status,
                    category=info["category"],
                    urgency=info["urgency"],
                    place=info["place"],
                    narrative_masked=info["narrative_masked"],
                    due_at=info["due_at"],
                    respond_url=escalation_service.response_url(escalation),
                )
            )
        return out


@router.post("/api/v1/body/escalations/{escalation_id}/response")
async def api_respond(escalation_id: int, answer: BodyResponseIn, request: Request, body_id: BodyId) -> JSONResponse:
    """Answer a case: acknowledge, action_taken (with text), resolved, or not_ours."""

    def unit(session: Session) -> tuple[int, dict[str, Any]]:
        escalation = session.get(Escalation, escalation_id)
        if escalation is None or escalation.body_id != body_id:
            return 404, {"detail": "no such escalation for this body"}
        try:
            escalation_service.record_response(session, escalation, action=answer.action, text=answer.text, via="api")
        except (escalation_service.AlreadyAnswered, escalation_service.NotCurrent) as exc:
            return 409, {"detail": str(exc)}
        except InvalidInput as exc:
            return 422, {"detail": str(exc)}
        return 200, {"escalation": escalation.id, "status": escalation.status}

    status, payload = await request.app.state.writer.run(unit)
    return JSONResponse(payload, status_code=status)
