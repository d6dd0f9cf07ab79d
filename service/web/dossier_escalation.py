"""JSON API: a supervisor sends a dossier to a national or regional body (docs/escalation.md, "Collective
escalation: the dossier"). Wired here, above the flows, because sending it needs both the analytics (its
suppressed contents) and the escalation machinery (service/flows/dossier.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlmodel import Session

from service.audit.service import record
from service.auth.deps import ApiUser, SessionDep, WebUser
from service.auth.principal import Principal
from service.escalation import dossiers
from service.escalation.models import Dossier, Escalation
from service.flows import dossier as dossier_flow
from service.kit.errors import DomainError
from service.kit.render import Csrf, act_then_redirect, check_csrf, need_role
from service.orgs.models import SUPERVISING
from service.queue.schemas import Strict
from service.supervision.dossier_api import ERRORS, Id, get_dossier, need_supervisor

router = APIRouter(prefix="/api/v1", tags=["dossiers"])
pages = APIRouter(include_in_schema=False)


class EscalateIn(Strict):
    body: str = Field(min_length=1, max_length=80, pattern=r"^[a-z0-9][a-z0-9_.-]*$", description="the body's slug")


class DossierEscalationOut(BaseModel):
    escalation: int
    dossier: int
    body: str
    status: str
    due_at: datetime | None


def _escalate_recorded(session: Session, user: Principal, dossier: Dossier, body_slug: str) -> Escalation:
    """Send the dossier to the body as `user`, audited: the API and the dossier page's button."""
    escalation = dossier_flow.escalate(session, dossier, body_slug=body_slug, actor=user.email)
    record(
        session,
        actor=user.email,
        action="dossier.escalate",
        object_type="dossier",
        object_id=dossier.id,
        detail={"escalation": escalation.id, "body": body_slug},
    )
    return escalation


@router.post("/dossiers/{dossier_id}/escalate", status_code=201, response_model=DossierEscalationOut, responses=ERRORS)
def escalate_dossier(dossier_id: Id, body: EscalateIn, session: SessionDep, user: ApiUser) -> dict[str, Any]:
    """Send the dossier as one case to a national or regional body: the same signed link, deadline, reminder
    and answer as a single case's escalation. Sending it again to another body supersedes the one waiting;
    the same request twice is one escalation."""
    need_supervisor(user)
    dossier = get_dossier(session, user, dossier_id)
    try:
        escalation = _escalate_recorded(session, user, dossier, body.body)
    except DomainError as exc:
        session.rollback()
        raise HTTPException(exc.http_status, str(exc)) from None
    out = {
        "escalation": escalation.id,
        "dossier": dossier.id,
        "body": body.body,
        "status": escalation.status,
        "due_at": escalation.due_at,
    }
    session.commit()
    return out


@pages.post("/supervise/dossiers/{dossier_id}/escalate")
def escalate_from_page(
    dossier_id: Id,
    request: Request,
    session: SessionDep,
    user: WebUser,
    body: Annotated[str, Form(max_length=80)] = "",
    csrf_token: Csrf = "",
) -> Response:
    """The dossier page's "Send" button: the same as the API; back to the dossier's page."""
    if user is None:
        return RedirectResponse("/", status_code=303)
    user = need_role(user, SUPERVISING, "supervisors and administrators only")
    check_csrf(request, csrf_token)

    def send() -> str:
        dossier = dossiers.get(session, dossier_id, org_id=user.org_id)
        _escalate_recorded(session, user, dossier, body)
        return f"/supervise/dossiers/{dossier.id}"

    return act_then_redirect(request, session, send)
