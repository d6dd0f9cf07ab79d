"""JSON API for dossiers: a supervisor gathers a pattern of cases into one (docs/escalation.md,
"Collective escalation: the dossier").

Same sign-in and scope as the rest of /api/v1: another organisation's dossier or case is 404, exactly
like one that does not exist. Supervisors and administrators of an organisation build dossiers; a
handler may not. Reading a dossier gives its suppressed contents only, never an identifier of a case
besides the case numbers the organisation already sees in its queue.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import BaseModel, Field, model_validator
from sqlmodel import Session

from service.analytics import dossier as published
from service.audit.service import record
from service.auth.deps import ApiUser, SessionDep
from service.auth.principal import Principal
from service.escalation import dossiers
from service.escalation.models import Dossier
from service.kit.errors import DomainError, NotFound
from service.kit.problems import Problem
from service.queue.actions import NotPermitted
from service.queue.schemas import Strict
from service.supervision.api import Text

router = APIRouter(prefix="/api/v1", tags=["dossiers"])
ERRORS: dict[int | str, dict] = {
    401: {"description": "not signed in", "model": Problem},
    403: {"description": "not allowed (handlers; a platform administrator building one)", "model": Problem},
    404: {"description": "not found (also another organisation's)", "model": Problem},
    422: {"description": "invalid input (no title, fewer than two cases)", "model": Problem},
}
CLOSE_ERRORS: dict[int | str, dict] = {
    **ERRORS,
    409: {"description": "the dossier is already closed", "model": Problem},
    422: {"description": "invalid input (no reason, or a reason too long)", "model": Problem},
}
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
CaseId = Annotated[int, Field(ge=1, le=2**31 - 1)]


class DossierIn(Strict):
    title: Text = Field(min_length=1, max_length=200)
    cluster_id: CaseId | None = Field(default=None, description="every case of this cluster your organisation holds")
    case_ids: list[CaseId] = Field(default_factory=list, max_length=dossiers.MAX_CASES)
    filter_query: Text | None = Field(default=None, max_length=600, description="the saved filter the cases came from")

    @model_validator(mode="after")
    def _one_source(self) -> DossierIn:
        if (self.cluster_id is None) == (not self.case_ids):
            raise ValueError("give either cluster_id or case_ids")
        return self


class DossierOut(BaseModel):
    id: int
    title: str
    source: str
    status: str
    created_by: str
    created_at: datetime
    case_ids: list[int]
    closed_at: datetime | None = None
    closed_reason: str | None = None


class DossierContentsOut(DossierOut):
    contents: dict[str, Any] = Field(description="suppressed tables, map points and approved quotes")


def need_supervisor(user: Principal) -> None:
    if user.role not in ("supervisor", "admin"):
        raise HTTPException(403, "only supervisors and administrators work with dossiers")


def _out(session: Session, dossier: Dossier) -> dict[str, Any]:
    return {
        "id": dossier.id,
        "title": dossier.title,
        "source": dossier.source,
        "status": dossier.status,
        "created_by": dossier.created_by,
        "created_at": dossier.created_at,
        "case_ids": dossiers.case_ids(session, dossier),
        "closed_at": dossier.closed_at,
        "closed_reason": dossier.closed_reason,
    }


def get_dossier(session: Session, user: Principal, dossier_id: int) -> Dossier:
    try:
        return dossiers.get(session, dossier_id, org_id=user.org_id)
    except NotFound:
        raise HTTPException(404, "dossier not found") from None


def build_recorded(session: Session, user: Principal, **source: Any) -> Dossier:
    """Build a dossier (`dossiers.build`: title, org_id and its cases' source) as `user`, audited; the
    API and the queue's button both build through here."""
    made = dossiers.build(session, actor=user.email, **source)
    record(
        session,
        actor=user.email,
        action="dossier.create",
        object_type="dossier",
        object_id=made.id,
        detail={"source": made.source, "cases": len(dossiers.case_ids(session, made))},
    )
    return made


def close_recorded(session: Session, user: Principal, dossier: Dossier, reason: str) -> None:
    """Close the dossier as `user` (a supervisor or administrator of its organisation), audited; the API and
    the dossier page's button both close through here."""
    if user.org_id is None or user.org_id != dossier.org_id:
        raise NotPermitted("a dossier is closed by a supervisor of its organisation")
    waiting = dossiers.waiting_escalation(session, dossier)
    dossiers.close(session, dossier, reason=reason, actor=user.email)
    record(
        session,
        actor=user.email,
        action="dossier.close",
        object_type="dossier",
        object_id=dossier.id,
        detail={"waiting_escalation": waiting.id if waiting is not None else None},
    )


@router.post("/dossiers", status_code=201, response_model=DossierOut, responses=ERRORS)
def create_dossier(body: DossierIn, session: SessionDep, user: ApiUser) -> dict[str, Any]:
    """Build a dossier from a cluster or from a list of your organisation's cases (what a saved filter
    showed); each linked case's timeline says so."""
    need_supervisor(user)
    if user.org_id is None:
        raise HTTPException(403, "a dossier belongs to an organisation: build it from an organisation's account")
    try:
        made = build_recorded(
            session,
            user,
            org_id=user.org_id,
            title=body.title,
            report_ids=body.case_ids,
            cluster_id=body.cluster_id,
            filter_query=body.filter_query,
        )
    except DomainError as exc:
        session.rollback()
        raise HTTPException(exc.http_status, str(exc)) from None
    out = _out(session, made)
    session.commit()
    return out


class CasesIn(Strict):
    case_ids: list[CaseId] = Field(min_length=1, max_length=dossiers.MAX_CASES)


@router.post("/dossiers/{dossier_id}/cases", response_model=DossierOut, responses=ERRORS)
def add_dossier_cases(dossier_id: Id, body: CasesIn, session: SessionDep, user: ApiUser) -> dict[str, Any]:
    """Link more of your organisation's cases to a dossier not yet escalated (already linked ones are kept)."""
    need_supervisor(user)
    dossier = get_dossier(session, user, dossier_id)
    try:
        added = dossiers.add_cases(session, dossier, report_ids=body.case_ids, actor=user.email)
    except DomainError as exc:
        session.rollback()
        raise HTTPException(exc.http_status, str(exc)) from None
    if added:
        record(
            session,
            actor=user.email,
            action="dossier.add_cases",
            object_type="dossier",
            object_id=dossier.id,
            detail={"cases": len(added)},
        )
    out = _out(session, dossier)
    session.commit()
    return out


class CloseIn(Strict):
    reason: Text = Field(min_length=1, max_length=dossiers.MAX_REASON, description="why it is closed, in a few words")


@router.post("/dossiers/{dossier_id}/close", response_model=DossierOut, responses=CLOSE_ERRORS)
def close_dossier(dossier_id: Id, body: CloseIn, session: SessionDep, user: ApiUser) -> dict[str, Any]:
    """Close a dossier with a short reason: it takes no new case and is not escalated again; each linked case's
    timeline says so. An escalation still waiting stays answerable (no more reminders)."""
    need_supervisor(user)
    dossier = get_dossier(session, user, dossier_id)
    try:
        close_recorded(session, user, dossier, body.reason)
    except DomainError as exc:
        session.rollback()
        raise HTTPException(exc.http_status, str(exc)) from None
    out = _out(session, dossier)
    session.commit()
    return out


@router.get("/dossiers", response_model=list[DossierOut], responses=ERRORS)
def list_dossiers(session: SessionDep, user: ApiUser) -> list[dict[str, Any]]:
    """Your organisation's dossiers, newest first (a platform administrator: every organisation's)."""
    need_supervisor(user)
    return [_out(session, d) for d in dossiers.list_for(session, org_id=user.org_id)]


@router.get("/dossiers/{dossier_id}", response_model=DossierContentsOut, responses=ERRORS)
def read_dossier(
    dossier_id: Id,
    session: SessionDep,
    user: ApiUser,
    lang: Annotated[str, Query(pattern="^(en|km|pt)$")] = "en",
) -> dict[str, Any]:
    """The dossier and what it publishes, in Khmer, English or Portuguese: suppressed counts over time, per
    province and per body asked, and the approved quotes when it links enough cases."""
    need_supervisor(user)
    dossier = get_dossier(session, user, dossier_id)
    return {**_out(session, dossier), "contents": published.contents(session, dossier, language=lang).as_dict()}
