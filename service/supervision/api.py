"""JSON API for a supervisor's day: workload per handler, tags on cases, saved views, reply templates.

Same sign-in and scope as /api/v1/cases (service/queue/routes.py): a bearer token or the web session
(then an unsafe method needs X-CSRF-Token); another organisation's case, view or template is 404,
exactly like one that does not exist. Every change goes through the same service function as the
web pages, so it is checked and audited the same way.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, NoReturn

from fastapi import APIRouter, HTTPException, Path, Query, Response
from pydantic import AfterValidator, BaseModel, Field
from sqlmodel import Session

from service.auth.principal import Principal
from service.kit.models import require_id
from service.auth.deps import ApiUser, SessionDep
from service.kit.errors import DomainError, NotFound
from service.queue.actions import NotPermitted
from service.kit.problems import Problem
from service.queue.deps import CaseInScope
from service.queue.schemas import Strict
from service.supervision import replies
from service.supervision import service as sup
from service.supervision import tags as tagging
from service.supervision.models import ReplyTemplate

router = APIRouter(prefix="/api/v1", tags=["supervision"])
ERRORS: dict[int | str, dict] = {
    401: {"description": "not signed in", "model": Problem},
    403: {"description": "not allowed", "model": Problem},
    404: {"description": "not found (also another organisation's)", "model": Problem},
    422: {"description": "invalid input", "model": Problem},
}
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _no_nul(value: str) -> str:
    """PostgreSQL cannot store NUL in text and no person types one: refused (422), never stored."""
    if "\x00" in value:
        raise ValueError("must not contain a NUL character")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]


def _refuse(exc: DomainError, missing: str) -> NoReturn:
    """A domain error at the HTTP edge; `missing` names what a 404 was looking for."""
    if isinstance(exc, NotFound):
        raise HTTPException(404, missing) from None
    if isinstance(exc, NotPermitted):
        raise HTTPException(403, str(exc)) from None
    raise HTTPException(422, str(exc)) from None


def _change(session: Session, missing: str, fn):
    try:
        outcome = fn()
    except DomainError as exc:
        session.rollback()
        _refuse(exc, missing)
    session.commit()
    return outcome


# -- workload --------------------------------------------------------------------------------------


class LoadOut(BaseModel):
    user_id: int | None = Field(description="null: the organisation's unassigned cases")
    email: str | None
    active: bool
    open: int
    overdue: int
    urgent: int


class WorkloadOut(BaseModel):
    org_id: int
    at: datetime
    rows: list[LoadOut] = Field(description="most overdue first; the unassigned cases last")
    total: LoadOut


@router.get("/workload", response_model=WorkloadOut, responses=ERRORS)
def workload(
    session: SessionDep, user: ApiUser, org_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None
) -> WorkloadOut:
    """Open, overdue and urgent cases per member of the organisation (supervisors and administrators;
    a platform administrator names the organisation with `org_id`)."""
    try:
        found = sup.workload(session, user=user, org_id=org_id)
    except DomainError as exc:
        _refuse(exc, "no such organisation")

    def row(load: sup.Load) -> LoadOut:
        person = load.user
        return LoadOut(
            user_id=person.id if person else None,
            email=person.email if person else None,
            active=bool(person.is_active) if person else True,
            open=load.open,
            overdue=load.overdue,
            urgent=load.urgent,
        )

    return WorkloadOut(org_id=found.org.id, at=found.at, rows=[row(r) for r in found.rows], total=row(found.total))


# -- tags ------------------------------------------------------------------------------------------


class TagCount(BaseModel):
    tag: str
    open_cases: int


class CaseTags(BaseModel):
    case_id: int
    tags: list[str]


class TagIn(Strict):
    tag: Text = Field(min_length=1, max_length=200)


@router.get("/tags", response_model=list[TagCount], responses=ERRORS)
def list_tags(session: SessionDep, user: ApiUser) -> list[TagCount]:
    """The tags in use in the caller's organisation, with how many open cases carry each."""
    return [TagCount(tag=t, open_cases=n) for t, n in tagging.org_tags(session, user=user)]


@router.get("/cases/{case_id}/tags", response_model=CaseTags, responses=ERRORS)
def case_tags(report: CaseInScope, session: SessionDep) -> CaseTags:
    return CaseTags(case_id=report.id, tags=tagging.tags_of(session, require_id(report)))


@router.post("/cases/{case_id}/tags", response_model=CaseTags, responses=ERRORS)
def add_tag(report: CaseInScope, body: TagIn, session: SessionDep, user: ApiUser) -> CaseTags:
    """Put a tag on a case (lower-cased, spaces collapsed; a tag already there is no change).
    Anyone who may see the case, as on the case page. Audited as `case.tag`."""
    _change(session, "no such case", lambda: tagging.add_tag(session, user=user, report=report, tag=body.tag))
    return CaseTags(case_id=report.id, tags=tagging.tags_of(session, require_id(report)))


@router.delete("/cases/{case_id}/tags/{tag}", response_model=CaseTags, responses=ERRORS)
def remove_tag(
    report: CaseInScope,
    tag: Annotated[str, Path(min_length=1, max_length=200), AfterValidator(_no_nul)],
    session: SessionDep,
    user: ApiUser,
) -> CaseTags:
    """Take a tag off a case (the tag URL-encoded in the path). Audited as `case.untag`."""
    _change(session, "no such case", lambda: tagging.remove_tag(session, user=user, report=report, tag=tag))
    return CaseTags(case_id=report.id, tags=tagging.tags_of(session, require_id(report)))


# -- saved views of the queue ----------------------------------------------------------------------


class ViewOut(BaseModel):
    id: int
    name: str
    query: str = Field(description="the queue's filters as a query string, e.g. `urgency=urgent&tag=police`")
    shared: bool
    mine: bool


class ViewIn(Strict):
    name: Text = Field(min_length=1, max_length=200)
    query: Text = Field(min_length=1, max_length=1000)
    shared: bool = False


def _view(row, user: Principal) -> ViewOut:
    return ViewOut(id=row.id, name=row.name, query=row.query, shared=row.shared, mine=row.user_id == user.id)


@router.get("/views", response_model=list[ViewOut], responses=ERRORS)
def list_views(session: SessionDep, user: ApiUser) -> list[ViewOut]:
    """The caller's saved views and those shared in their organisation."""
    return [_view(v, user) for v in tagging.visible_filters(session, user=user)]


@router.post("/views", response_model=ViewOut, status_code=201, responses=ERRORS)
def create_view(body: ViewIn, session: SessionDep, user: ApiUser) -> ViewOut:
    """Keep the queue's filters under a name (only the queue's filters are kept); sharing it with the
    organisation is for its supervisors and administrators. Audited as `filter.save`."""
    row = _change(
        session,
        "no such saved view",
        lambda: tagging.save_filter(session, user=user, name=body.name, query=body.query, shared=body.shared),
    )
    return _view(row, user)


@router.delete("/views/{view_id}", status_code=204, responses=ERRORS)
def delete_view(view_id: Id, session: SessionDep, user: ApiUser) -> Response:
    """Your own view; a shared one also by the organisation's supervisors and administrators."""
    _change(session, "no such saved view", lambda: tagging.delete_filter(session, user=user, filter_id=view_id))
    return Response(status_code=204)


# -- reply templates -------------------------------------------------------------------------------


class TemplateOut(BaseModel):
    id: int
    name: str
    text_km: str
    text_en: str
    text_pt: str
    segments: dict[str, int | None] = Field(description="SMS parts each language's text costs (null: no text)")


class TemplateIn(Strict):
    name: Text = Field(min_length=1, max_length=200)
    text_en: Text = Field(
        min_length=1, max_length=2000, description="required: sent when the report's language has no text"
    )
    text_km: Text = Field(default="", max_length=2000)
    text_pt: Text = Field(default="", max_length=2000)


def _template(row) -> TemplateOut:
    return TemplateOut(
        id=row.id,
        name=row.name,
        text_km=row.text_km,
        text_en=row.text_en,
        text_pt=row.text_pt,
        segments={k: c.segments if c else None for k, c in replies.counts(row).items()},
    )


def _template_org(user: Principal) -> int:
    try:
        return replies._supervisor_of_org(user)
    except DomainError as exc:
        _refuse(exc, "no such reply template")


@router.get("/reply-templates", response_model=list[TemplateOut], responses=ERRORS)
def list_templates(session: SessionDep, user: ApiUser) -> list[TemplateOut]:
    """The organisation's active reply templates (its supervisors and administrators)."""
    return [_template(t) for t in replies.org_templates(session, _template_org(user))]


def _save(session: Session, user: Principal, body: TemplateIn, template_id: int | None) -> TemplateOut:
    texts = {"km": body.text_km, "en": body.text_en, "pt": body.text_pt}
    row = _change(
        session,
        "no such reply template",
        lambda: replies.save(session, user=user, name=body.name, texts=texts, template_id=template_id),
    )
    return _template(row)


@router.post("/reply-templates", response_model=TemplateOut, status_code=201, responses=ERRORS)
def create_template(body: TemplateIn, session: SessionDep, user: ApiUser) -> TemplateOut:
    """A new template for the caller's organisation. Audited as `reply_template.create` (never the text)."""
    return _save(session, user, body, None)


@router.put("/reply-templates/{template_id}", response_model=TemplateOut, responses=ERRORS)
def edit_template(template_id: Id, body: TemplateIn, session: SessionDep, user: ApiUser) -> TemplateOut:
    """Replace a template's name and texts. Audited as `reply_template.update`."""
    found = session.get(ReplyTemplate, template_id)
    if found is None or not found.active or found.org_id != _template_org(user):
        raise HTTPException(404, "no such reply template")  # a deleted one stays deleted
    return _save(session, user, body, template_id)


@router.delete("/reply-templates/{template_id}", status_code=204, responses=ERRORS)
def delete_template(template_id: Id, session: SessionDep, user: ApiUser) -> Response:
    """Deactivate a template (past replies keep their text). Audited as `reply_template.deactivate`."""
    _change(session, "no such reply template", lambda: replies.deactivate(session, user=user, template_id=template_id))
    return Response(status_code=204)
