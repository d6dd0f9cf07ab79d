"""The supervisor side of analytics behind the web sign-in (docs/analytics.md "Routes and roles").

    GET  /dashboard                         supervisor, admin            (page: signed out → redirect to /)
    GET  /scorecards/{place_code}           handler, supervisor, admin   (page)
    GET  /reports/quarterly/{year}Q{n}.pdf  supervisor, admin            (download: signed out → 401)
    GET  /exports/aggregates.{csv,xlsx}     handler, supervisor, admin   (download)
    GET  /exports/cases.{csv,xlsx}          supervisor, admin            (download)
    POST /quotes                            supervisor, admin            (form, CSRF token as every web form)
    POST /quotes/{quote_id}/revoke          supervisor, admin            (form, CSRF token; own organisation's cases)

Everything is scoped to the user's organisation (`Filters.org_id`); a platform admin (role
admin, no organisation) sees every organisation. Exports and the quarterly report are audited
by `service.analytics.service`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timezone
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session, select

from service.auth.principal import Principal
from service.analytics import pages, publish, queries as q, service as svc
from service.analytics import codes as code_figures, fees as fee_figures
from service.analytics.labels import t
from service.analytics.models import ApprovedQuote
from service.auth.deps import SessionDep, WebUser
from service.kit.clock import now
from service.kit.errors import DomainError, InvalidInput, NotFound
from service.kit.i18n import LANGUAGES
from service.audit.service import record
from service.orgs.models import BODY_ALERT_WINDOW_DAYS, Organisation
from service.orgs.service import set_body_alert as set_body_alert_line
from service.kit.models import require_id
from service.places.models import Place
from service.queue import service as queue
from service.kit.render import csrf_valid, header as site_header, language, page, time_zone
from service.kit.websession import COOKIE, csrf_token

router = APIRouter(include_in_schema=False)

ROLES = ("handler", "supervisor", "admin")
SUPERVISORS = ("supervisor", "admin")
# The analytics pages are self-contained (inline CSS, inline SVG, no script at all).
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
MEDIA = {"csv": "text/csv; charset=utf-8", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


class _PageError(Exception):
    def __init__(self, status: int, message: str) -> None:
        self.status, self.message = status, message


def _lang(request: Request) -> str:
    chosen = request.query_params.get("lang")
    return chosen if chosen in LANGUAGES else language(request)


def org_scope(user: Principal) -> int | None:
    """The organisation whose reports the user may count; None for a platform admin (all of them)."""
    if user.org_id is None:
        if user.role == "admin":
            return None
        raise svc.NotAllowed("a user without an organisation sees no figures")
    return user.org_id


def _allowed(user: Principal, roles: tuple[str, ...]) -> int | None:
    if user.role not in roles:
        raise svc.NotAllowed("your role may not see this")
    return org_scope(user)


def _http(exc: DomainError) -> HTTPException:
    if isinstance(exc, NotFound):
        return HTTPException(404, str(exc) or "not found")
    if isinstance(exc, svc.NotAllowed):
        return HTTPException(403, str(exc))
    if isinstance(exc, pages.PdfUnavailable):
        if str(exc).startswith(pages.MISSING_CHROMIUM):  # not installed: say which package, not "later"
            return HTTPException(503, pages.MISSING_CHROMIUM)
        return HTTPException(503, "the PDF could not be printed now; try again later")
    if isinstance(exc, InvalidInput):
        return HTTPException(400, str(exc))
    return HTTPException(400, str(exc))


def _html(html: str, status_code: int = 200) -> HTMLResponse:
    response = HTMLResponse(html, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _error_page(request: Request, exc: DomainError) -> Response:
    http = _http(exc)
    messages = {403: "You do not have access to this page.", 404: "Not found."}
    return page(request, "error.html", http.status_code, message=messages.get(http.status_code, str(http.detail)))


def _download(user: Principal | None) -> Principal:
    if user is None:
        raise HTTPException(401, "sign in first")
    return user


def _form_done(request: Request, session: Session, act: Callable[[], None], then: str) -> Response:
    """Run a form's action: commit and go to `then`, or roll back and show the error page."""
    try:
        act()
    except DomainError as exc:
        session.rollback()
        http = _http(exc)
        return page(request, "error.html", http.status_code, message=str(http.detail))
    session.commit()
    return RedirectResponse(then, status_code=303)


def _attachment(body: bytes, media: str, filename: str) -> Response:
    return Response(
        body,
        media_type=media,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


def _date(value: str | None, name: str, time_zone: str | None = None) -> datetime | None:
    """A chosen day's start as a wall-clock bound: the analytics count each report by its local day (in the
    zone of the organisation handling it, service/analytics/localday.py), so 2026-07-01 means 00:00 on
    1 July there. `time_zone` is no longer needed (kept for callers)."""
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{name} must be a date YYYY-MM-DD") from None
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc)


def _window(request: Request, months: int = 12) -> tuple[datetime, datetime]:
    since, until = publish.default_window(months=months)
    chosen_since = _date(request.query_params.get("since"), "since", time_zone(request))
    chosen_until = _date(request.query_params.get("until"), "until", time_zone(request))
    since, until = chosen_since or since, chosen_until or until
    if since >= until:
        raise InvalidInput("since must be before until")
    return since, until


def _recent_quarters() -> tuple[str, ...]:
    """This quarter and the one before, as the PDF route spells them (2026Q3)."""
    at = now()
    this = (at.year, (at.month - 1) // 3 + 1)
    last = (this[0] - 1, 4) if this[1] == 1 else (this[0], this[1] - 1)
    return tuple(f"{y}Q{n}" for y, n in (this, last))


# -- pages --------------------------------------------------------------------------------------


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(request: Request, session: SessionDep, user: WebUser) -> Response:
    if user is None:
        return RedirectResponse("/", status_code=303)
    lang = _lang(request)
    try:
        org_id = _allowed(user, SUPERVISORS)
        place_raw = request.query_params.get("place", "")
        place_id = int(place_raw) if place_raw.isdigit() and int(place_raw) < 2**31 else None
        if place_raw and (place_id is None or place_id not in q.place_tree(session).by_id):
            raise NotFound("no such place")
        period = request.query_params.get("period", "month")
        if period not in q.PERIODS:
            raise InvalidInput("period must be week, month or quarter")
        since, until = _window(request)
        filters = q.Filters(since, until, place_id, org_id=org_id)
    except DomainError as exc:
        return _error_page(request, exc)
    message = {"approved": t(lang, "Quote approved."), "revoked": t(lang, "Quote revoked.")}.get(
        request.query_params.get("quote", "")
    )
    org = session.get(Organisation, org_id) if org_id is not None else None
    body_alert = (
        None
        if org is None
        else {
            "below": org.body_alert_below,
            "days": BODY_ALERT_WINDOW_DAYS,
            "minimum": request.app.state.settings.suppression_threshold,
            "saved": request.query_params.get("body_alert") == "saved",
        }
    )
    html = pages.dashboard_page(
        session,
        language=lang,
        filters=filters,
        period=period,
        csrf=csrf_token(request.cookies[COOKIE]),
        message=message,
        can_export_cases=user.role in SUPERVISORS,
        quarters=_recent_quarters(),
        header=site_header(lang, request),
        time_zone=time_zone(request),
        body_alert=body_alert,
    )
    return _html(html)


@router.get("/scorecards/{place_code}", response_class=HTMLResponse)
def scorecard(place_code: str, request: Request, session: SessionDep, user: WebUser) -> Response:
    if user is None:
        return RedirectResponse("/", status_code=303)
    lang = _lang(request)
    try:
        org_id = _allowed(user, ROLES)
        if not re.fullmatch(r"[A-Za-z0-9_.-]{1,80}", place_code):
            raise NotFound("no such place")
        place = session.exec(select(Place).where(Place.code == place_code)).first()
        if place is None:
            raise NotFound("no such place")
        since, until = _window(request, months=3)
        html = pages.scorecard_page(
            session,
            place_id=require_id(place),
            language=lang,
            filters=q.Filters(since, until, org_id=org_id),
            header=site_header(lang, request),
            time_zone=time_zone(request),
        )
    except DomainError as exc:
        return _error_page(request, exc)
    return _html(html)


# -- downloads ----------------------------------------------------------------------------------


def _export_user(user: Principal | None, fmt: str) -> Principal:
    """A signed-in user (else 401) asking for a format we write (else 404)."""
    user = _download(user)
    if fmt not in MEDIA:
        raise HTTPException(404, "format must be csv or xlsx")
    return user


def _audited_download(session: Session, make: Callable[[], tuple[bytes, str, str]]) -> Response:
    """Run an export or report that writes its own audit entry: (body, media type, file name) as an attachment.

    The audit entry is committed only when the export succeeded; a DomainError rolls it back and answers
    its HTTP status.
    """
    try:
        body, media, filename = make()
    except DomainError as exc:
        session.rollback()
        raise _http(exc) from None
    session.commit()
    return _attachment(body, media, filename)


@router.get("/reports/quarterly/{year:int}Q{quarter:int}.pdf")
def quarterly_pdf(year: int, quarter: int, request: Request, session: SessionDep, user: WebUser) -> Response:
    user = _download(user)

    def make() -> tuple[bytes, str, str]:
        if not (2000 <= year <= 2100 and 1 <= quarter <= 4):
            raise NotFound("no such quarter")
        org_id = _allowed(user, SUPERVISORS)
        pdf = pages.quarterly_report(
            session,
            year=year,
            quarter=quarter,
            language=_lang(request),
            org_id=org_id,
            actor=user.email,
            role=user.role,
        )
        return pdf, "application/pdf", f"samleng-{year}Q{quarter}-{_lang(request)}.pdf"

    return _audited_download(session, make)


@router.get("/exports/aggregates.{fmt}")
def export_aggregates(fmt: str, request: Request, session: SessionDep, user: WebUser) -> Response:
    user = _export_user(user, fmt)
    lang = _lang(request)

    def make() -> tuple[bytes, str, str]:
        org_id = _allowed(user, ROLES)
        since, until = _window(request)
        filters = q.Filters(since, until, org_id=org_id)
        tables = {
            fig.key: fig.table
            for fig in publish.public_figures(session, filters=filters, language=lang)
            if fig.table is not None
        }
        # The fees: one table per currency, suppressed by service/analytics/fees.py.
        extra = {
            f"fees_{table.currency}": table.export_rows(lang)
            for table in fee_figures.fee_tables(session, filters=filters, threshold=publish.threshold(), language=lang)
        }
        # Rights violations by documentation code: one suppressed table (service/analytics/codes.py).
        coded = code_figures.codes_table(session, filters=filters, threshold=publish.threshold(), language=lang)
        if coded is not None:
            tables["documentation_codes"] = coded
        export = svc.export_xlsx if fmt == "xlsx" else svc.export_csv
        body = export(session, tables=tables, actor=user.email, role=user.role, extra=extra)
        return body, MEDIA[fmt], f"samleng-aggregates-{since:%Y%m%d}-{until:%Y%m%d}.{fmt}"

    return _audited_download(session, make)


@router.get("/exports/cases.{fmt}")
def export_cases(fmt: str, request: Request, session: SessionDep, user: WebUser) -> Response:
    user = _export_user(user, fmt)

    def make() -> tuple[bytes, str, str]:
        org_id = _allowed(user, SUPERVISORS)
        since, until = _window(request)
        body = svc.export_cases(
            session,
            filters=q.Filters(since, until, org_id=org_id),
            actor=user.email,
            role=user.role,
            fmt=fmt,
            time_zone=time_zone(request),
        )
        return body, MEDIA[fmt], f"samleng-cases-{since:%Y%m%d}-{until:%Y%m%d}.{fmt}"

    return _audited_download(session, make)


# -- forms --------------------------------------------------------------------------------------


def _form_user(request: Request, user: Principal | None, csrf_token: str) -> Principal:
    """A signed-in user (else 401) posting a form of this site (else 403)."""
    if user is None:
        raise HTTPException(401, "sign in first")
    if not csrf_valid(request, csrf_token):
        raise HTTPException(403, "the form expired or did not come from this site; reload the page")
    return user


@router.post("/quotes")
def approve_quote(
    request: Request,
    session: SessionDep,
    user: WebUser,
    report_id: Annotated[str, Form(max_length=12)] = "",
    excerpt: Annotated[str, Form(max_length=2000)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    signed = _form_user(request, user, csrf_token)

    def act() -> None:
        _allowed(signed, SUPERVISORS)
        if not report_id.strip().isdigit() or not 0 < int(report_id) < 2**31:
            raise InvalidInput("the case number must be a number")
        # Another organisation's case is answered like a case that does not exist.
        report = queue.get_case(session, user=signed, report_id=int(report_id))
        svc.approve_quote(
            session, report_id=require_id(report), excerpt=excerpt, approved_by=signed.email, role=signed.role
        )

    return _form_done(request, session, act, "/dashboard?quote=approved#quotes")


@router.post("/quotes/{quote_id}/revoke")
def revoke_quote(
    quote_id: str,
    request: Request,
    session: SessionDep,
    user: WebUser,
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """Withdraw an approved quote (from the dashboard's list). Scoped like approval: another
    organisation's quote is answered as one that does not exist."""
    signed = _form_user(request, user, csrf_token)

    def act() -> None:
        _allowed(signed, SUPERVISORS)
        if not quote_id.isdigit() or not 0 < int(quote_id) < 2**31:
            raise NotFound("no such quote")
        quote = session.get(ApprovedQuote, int(quote_id))
        if quote is None:
            raise NotFound("no such quote")
        try:
            queue.get_case(session, user=signed, report_id=quote.report_id)
        except NotFound:
            raise NotFound("no such quote") from None
        svc.revoke_quote(session, quote_id=require_id(quote), actor=signed.email, role=signed.role)

    return _form_done(request, session, act, "/dashboard?quote=revoked#quotes")


@router.post("/dashboard/body-alert")
def set_body_alert(
    request: Request,
    session: SessionDep,
    user: WebUser,
    below: Annotated[str, Form(max_length=8)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """The organisation's line for body alerts (docs/supervisors.md, "When a grievance body falls behind"):
    a percent from 1 to 100, or empty to switch the alert off. Its supervisors and administrators only."""
    user = _form_user(request, user, csrf_token)

    def act() -> None:
        org_id = _allowed(user, SUPERVISORS)
        org = session.get(Organisation, org_id) if org_id is not None else None
        if org is None:  # a platform administrator has no organisation's line to set
            raise svc.NotAllowed("only an organisation's supervisors and administrators set its body alert")
        value = below.strip().rstrip("%").strip()
        if value and not value.isdigit():
            raise InvalidInput("the share must be a whole percent from 1 to 100, or empty to switch the alert off")
        before = org.body_alert_below
        set_body_alert_line(session, org=org, below=int(value) if value else None)
        record(
            session,
            actor=user.email,
            action="org.body_alert",
            object_type="organisation",
            object_id=org.id,
            detail={"before": before, "after": org.body_alert_below},
        )

    return _form_done(request, session, act, "/dashboard?body_alert=saved#body-alert")
