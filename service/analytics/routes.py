"""Public analytics HTTP: the transparency page and Open311 GeoReport v2 (no login, suppressed data only).

The supervisor pages (dashboard, scorecards, quarterly PDF, exports) are rendering
functions in `pages.py`, served behind the review queue's sign-in by `web.py`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlmodel import Session

from service.analytics import open311, pages, queries as q
from service.kit.clock import now
from service.kit.render import header

router = APIRouter()
# The supervisor pages behind the web sign-in (service/analytics/web.py).
from service.analytics.web import router as _web_router  # noqa: E402

router.include_router(_web_router)


def _session(request: Request) -> Iterator[Session]:
    with Session(request.app.state.engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()  # exports and page views write nothing, except the audit log
        except BaseException:
            session.rollback()
            raise


SessionDep = Annotated[Session, Depends(_session)]
# The languages of the catalogues (service/kit/i18n.py); any other `lang` is a 422 naming the field.
Lang = Annotated[str, Query(pattern="^(en|km|pt)$")]


@router.get("/public", response_class=HTMLResponse)
def public_page(request: Request, session: SessionDep, lang: Lang = "en", province: str = "") -> HTMLResponse:
    place_id = None
    if province:
        node = next((p for p in q.place_tree(session).provinces() if p.code == province), None)
        if node is None:
            raise HTTPException(404, "unknown province")
        place_id = node.id

    return HTMLResponse(
        pages.public_page(session, language=lang, place_id=place_id, header=header(lang, request, public=True)),
        headers=PUBLIC_HEADERS,
    )


# The public page has no script and loads nothing from elsewhere (charts are inline SVG).
PUBLIC_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def _parse_date(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise HTTPException(400, f"{name} must be a W3C date-time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


@router.get("/open311/v2/services.{fmt}")
def open311_services(fmt: str, lang: Lang = "en") -> Response:
    items = open311.services(lang)
    if fmt == "json":
        return JSONResponse(items)
    if fmt == "xml":
        return Response(open311.to_xml("services", "service", items), media_type="text/xml")
    raise HTTPException(404, "format must be json or xml")


@router.get("/open311/v2/bodies.{fmt}")
def open311_bodies(session: SessionDep, fmt: str, lang: Lang = "en") -> Response:
    """Samleng's extension to GeoReport v2: the grievance bodies' published figures (docs/analytics.md)."""
    if fmt not in ("json", "xml"):
        raise HTTPException(404, "format must be json or xml")
    items = open311.bodies(session, language=lang)
    if fmt == "json":
        return JSONResponse(items)
    return Response(open311.to_xml("bodies", "body", items), media_type="text/xml")


@router.get("/open311/v2/requests.{fmt}")
def open311_requests(
    session: SessionDep,
    fmt: str,
    service_code: str | None = None,
    status: Annotated[str | None, Query(pattern="^(open|closed)$")] = None,
    start_date: str | None = None,
    end_date: str | None = None,
    page_size: Annotated[int, Query(ge=1, le=open311.MAX_REQUESTS)] = 200,
    lang: Lang = "en",
) -> Response:
    if fmt not in ("json", "xml"):
        raise HTTPException(404, "format must be json or xml")
    if service_code is not None and service_code not in q.CATEGORIES:
        raise HTTPException(400, "unknown service_code")
    since, until = _parse_date(start_date, "start_date"), _parse_date(end_date, "end_date")
    try:
        if since is None:  # GeoReport v2: without start_date, the last 90 days
            since = (until or now()) - timedelta(days=90)
        since, until = open311.month_window(since, until)  # whole local months: times are published to the month
    except OverflowError:  # rounding out went past year 9999 or before year 1
        raise HTTPException(
            400, "start_date and end_date must be between years 1 and 9999 (whole months, 90 days before end_date)"
        ) from None
    items = open311.requests(
        session,
        filters=q.Filters(since, until),
        service_code=service_code,
        status=status,
        limit=page_size,
        language=lang,
    )
    if fmt == "json":
        return JSONResponse(items)
    return Response(open311.to_xml("service_requests", "request", items), media_type="text/xml")
