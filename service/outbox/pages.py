"""The outbox in the web app: dead letters with "retry now" (supervisors and administrators), and
the development outbox (development only, service/outbox/devoutbox.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import col, select

from service.auth.deps import SessionDep, WebUser
from service.auth.principal import Principal
from service.kit.errors import DomainError, NotFound
from service.kit.render import Csrf, check_csrf, need_role, page, redirect
from service.orgs.models import SUPERVISING
from service.outbox import deadletters, devoutbox
from service.reports.models import Report

router = APIRouter(include_in_schema=False)


def _supervisor(user: Principal | None) -> Principal:
    return need_role(user, SUPERVISING, "supervisors and administrators only")


@router.get("/admin/dead-letters", response_class=HTMLResponse)
def dead_letters_page(request: Request, session: SessionDep, user: WebUser) -> Response:
    """Messages the outbox gave up on (never their address or text), with "retry now"."""
    if user is None:
        return redirect("/")
    user = _supervisor(user)
    rows = deadletters.dead_letters(session, user=user)
    return page(
        request,
        "dead_letters.html",
        rows=rows,
        errors={r.id: deadletters.safe_error(r) for r in rows},
        done=request.query_params.get("done"),
    )


@router.post("/admin/dead-letters/{outbound_id}/retry")
def dead_letter_retry(
    outbound_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    request: Request,
    session: SessionDep,
    user: WebUser,
    csrf_token: Csrf = "",
) -> Response:
    user = _supervisor(user)
    check_csrf(request, csrf_token)
    try:
        deadletters.retry_dead_letter(session, user=user, outbound_id=outbound_id)
    except NotFound:
        session.rollback()
        return page(request, "error.html", 404, message="No such message.")
    except DomainError as exc:
        session.rollback()
        return page(request, "error.html", 409, message=str(exc))
    session.commit()
    return redirect("/admin/dead-letters?done=1")


@router.get("/dev/outbox", response_class=HTMLResponse)
def dev_outbox_page(request: Request, session: SessionDep, user: WebUser) -> Response:
    """Messages the development outbox caught instead of sending them, newest first (admins only).
    Not there at all (404) unless the development outbox is on; never in production."""
    if not request.app.state.settings.dev_outbox_on:
        raise HTTPException(404, "not found")
    if user is None:
        return redirect("/")
    admin = need_role(user, ("admin",), "administrators only")
    rows = devoutbox.newest(session)
    if admin.org_id is not None:  # an organisation's admin: messages about its own cases
        ids = {r["report_id"] for r in rows if r["report_id"]}
        own = (
            set(session.exec(select(Report.id).where(col(Report.id).in_(ids), Report.org_id == admin.org_id)).all())
            if ids
            else set()
        )
        rows = [r for r in rows if r["report_id"] in own]
    return page(request, "dev_outbox.html", rows=rows)
