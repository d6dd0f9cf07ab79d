"""Outreach workers in the web app: a supervisor or administrator makes a one-time link code for a
worker to send to the Telegram bot (service/agents/service.py)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from service.agents.service import link_code_for
from service.auth.deps import SessionDep, WebUser
from service.auth.principal import Principal
from service.kit.errors import DomainError
from service.kit.render import Csrf, check_csrf, need_role, page, redirect
from service.orgs.models import SUPERVISING

router = APIRouter(include_in_schema=False)


def _supervisor(user: Principal | None) -> Principal:
    return need_role(user, SUPERVISING, "supervisors and administrators only")


@router.get("/admin/agents", response_class=HTMLResponse)
def agents_page(request: Request, user: WebUser) -> Response:
    if user is None:
        return redirect("/")
    _supervisor(user)
    return page(request, "agents.html")


@router.post("/admin/agents/link-code", response_class=HTMLResponse)
def agent_link_code(request: Request, session: SessionDep, user: WebUser, csrf_token: Csrf = "") -> Response:
    """A one-time code for an outreach worker to send to the bot; shown once, stored only hashed."""
    user = _supervisor(user)
    check_csrf(request, csrf_token)
    try:
        code = link_code_for(session, user=user)
    except DomainError as exc:
        session.rollback()
        return page(request, "agents.html", 422, error=str(exc))
    session.commit()
    bot = (request.app.state.settings.telegram_bot_username or "").lstrip("@")
    link = f"https://t.me/{bot}?start={code.replace('-', '')}" if bot else None
    return page(request, "agents.html", code=code, link=link, hours=request.app.state.settings.agent_link_hours)
