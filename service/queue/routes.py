"""JSON API for case handlers: /api/v1/cases. Every case is looked up through the caller's scope;
another organisation's case is 404, exactly like a case that does not exist."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response
from sqlmodel import Session

from service.auth.deps import CurrentUser, SessionDep
from service.auth.service import NotAllowed
from service.kit import segments
from service.kit.errors import DomainError, InvalidInput, NotFound
from service.orgs.models import User
from service.escalation.service import LadderExhausted
from service.queue import actions, handling
from service.queue import service as queue
from service.queue.schemas import (
    AssignIn, CaseDetail, CasePage, CaseSummary, Category, Done, EscalateIn, EscalateOut, EscalationInfo,
    EscalationState, LadderRung, MergeIn, NoteIn, Problem, ReplyIn, ReplyOut, RerouteIn, StatusIn,
    TimelineItem, TriageIn, Urgency,
)
from service.reports.models import ALLOWED_TRANSITIONS, Report
from service.reports.service import InvalidTransition

router = APIRouter(prefix="/api/v1/cases", tags=["cases"])
ERRORS: dict[int | str, dict] = {
    401: {"description": "not signed in", "model": Problem}, 403: {"description": "not allowed", "model": Problem},
    404: {"description": "no such case", "model": Problem}, 409: {"description": "conflict", "model": Problem},
    422: {"description": "invalid input", "model": Problem}, 503: {"description": "unavailable", "model": Problem}}
CaseId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def http_error(exc: DomainError) -> HTTPException:
    """Domain errors at the HTTP edge (the message is safe to show; it never holds case text)."""
    if isinstance(exc, NotFound):
        return HTTPException(404, "no such case")
    if isinstance(exc, (actions.NotPermitted, NotAllowed)):
        return HTTPException(403, str(exc))
    if isinstance(exc, (actions.NoConsent, InvalidTransition, handling.Conflict, LadderExhausted)):
        return HTTPException(409, str(exc))
    return HTTPException(422, str(exc))


def summary(item: queue.QueueItem) -> CaseSummary:
    r = item.report
    return CaseSummary(id=r.id, status=r.status, category=r.category, urgency=r.urgency, channel=r.channel,  # type: ignore[arg-type]
                       population=r.population, language=r.language, place_id=r.place_id,
                       place_name=item.place_name_en, narrative_masked=r.narrative_masked, created_at=r.created_at,
                       updated_at=r.updated_at, due_at=r.due_at, overdue=item.overdue,
                       assigned_user_id=r.assigned_user_id, cluster_id=r.cluster_id, org_id=r.org_id)


def detail(session: Session, report: Report) -> CaseDetail:
    names = queue._place_names(session, {report.place_id}) if report.place_id else {}
    base = summary(queue.QueueItem(report=report, overdue=queue.is_overdue(report),
                                   place_name_en=names.get(report.place_id, (None, None))[0]))
    return CaseDetail(
        **base.model_dump(), subcategory=report.subcategory, category_source=report.category_source,
        secondary_category=report.secondary_category, triage_confidence=report.triage_confidence,
        triage_language=report.triage_language, triage_reasons=report.triage_reasons,
        place_text_masked=report.place_text_masked, first_response_at=report.first_response_at,
        resolved_at=report.resolved_at, closed_at=report.closed_at, can_reply=actions.can_reply(session, report),
        allowed_statuses=list(ALLOWED_TRANSITIONS.get(report.status, ())),
        timeline=[TimelineItem(at=e.at, kind=e.kind, actor=e.actor, detail=e.detail)
                  for e in actions.timeline(session, report)])


@router.get("", response_model=CasePage, responses=ERRORS)
def list_cases(
    session: SessionDep, user: CurrentUser,
    status: Annotated[list[Literal["received", "triaged", "in_progress", "escalated", "responded", "resolved",
                                   "closed", "duplicate", "withdrawn", "rejected", "all"]] | None, Query()] = None,
    category: Category | None = None, urgency: Urgency | None = None,
    place_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    channel: Literal["sms", "whatsapp", "telegram", "web"] | None = None,
    population: Literal["msm", "transgender", "sex_worker", "people_who_use_drugs", "plhiv", "tb", "miner",
                        "general"] | None = None,
    assigned: Literal["me", "unassigned"] | None = None, overdue: bool = False,
    cluster_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = queue.PAGE_SIZE,
    with_counts: bool = False,
) -> CasePage:
    """The caller's queue in queue order (urgent, deadline, age); `next_cursor` continues it."""
    filters = queue.Filters(status=tuple(status or ()), category=category, urgency=urgency, place_id=place_id,
                            channel=channel, population=population, assigned=assigned, overdue=overdue,
                            cluster_id=cluster_id, q=q)
    try:
        page = queue.queue_page(session, user=user, filters=filters, cursor=cursor, limit=limit)
    except DomainError as exc:
        raise http_error(exc) from None
    counts = queue.queue_counts(session, user=user) if with_counts else None
    body = CasePage(items=[summary(i) for i in page.items], next_cursor=page.next_cursor, counts=counts)
    # Serialised once here (FastAPI would validate the model a second time for response_model).
    return Response(body.model_dump_json(), media_type="application/json")  # type: ignore[return-value]


@router.get("/{case_id}", response_model=CaseDetail, responses=ERRORS)
def get_case(case_id: CaseId, session: SessionDep, user: CurrentUser) -> CaseDetail:
    """One case with its triage, reasons and timeline (the view is audited)."""
    try:
        report = queue.get_case(session, user=user, report_id=case_id)
    except DomainError as exc:
        raise http_error(exc) from None
    actions.record_view(session, user=user, report=report, via="api")
    out = detail(session, report)
    session.commit()
    return out


def _change(session: Session, user: User, case_id: int, fn: Callable[[Report], object]) -> object:
    try:
        report = queue.get_case(session, user=user, report_id=case_id)
        result = fn(report)
    except DomainError as exc:
        session.rollback()
        raise http_error(exc) from None
    session.commit()
    return result


@router.post("/{case_id}/claim", response_model=Done, responses=ERRORS)
def claim(case_id: CaseId, session: SessionDep, user: CurrentUser) -> Done:
    _change(session, user, case_id, lambda r: actions.claim(session, user=user, report=r))
    return Done()


@router.post("/{case_id}/release", response_model=Done, responses=ERRORS)
def release(case_id: CaseId, session: SessionDep, user: CurrentUser) -> Done:
    _change(session, user, case_id, lambda r: actions.release(session, user=user, report=r))
    return Done()


@router.post("/{case_id}/assign", response_model=Done, responses=ERRORS)
def assign(case_id: CaseId, body: AssignIn, session: SessionDep, user: CurrentUser) -> Done:
    _change(session, user, case_id, lambda r: actions.assign(session, user=user, report=r, assignee_id=body.user_id))
    return Done()


@router.post("/{case_id}/notes", response_model=Done, responses=ERRORS)
def add_note(case_id: CaseId, body: NoteIn, session: SessionDep, user: CurrentUser) -> Done:
    _change(session, user, case_id, lambda r: actions.add_note(session, user=user, report=r, text=body.text))
    return Done()


@router.post("/{case_id}/status", response_model=Done, responses=ERRORS)
def set_status(case_id: CaseId, body: StatusIn, session: SessionDep, user: CurrentUser) -> Done:
    _change(session, user, case_id,
            lambda r: actions.set_status(session, user=user, report=r, to=body.to, reason=body.reason))
    return Done()


@router.post("/{case_id}/triage", response_model=Done, responses=ERRORS)
def correct_triage(case_id: CaseId, body: TriageIn, session: SessionDep, user: CurrentUser) -> Done:
    _change(session, user, case_id, lambda r: actions.correct_triage(session, user=user, report=r,
                                                                      category=body.category, urgency=body.urgency))
    return Done()


@router.post("/{case_id}/merge", response_model=Done, responses=ERRORS)
def merge(case_id: CaseId, body: MergeIn, session: SessionDep, user: CurrentUser) -> Done:
    _change(session, user, case_id, lambda r: actions.merge(session, user=user, report=r, into_id=body.into_case_id))
    return Done()


@router.post("/{case_id}/reply", response_model=ReplyOut, responses=ERRORS)
def reply(case_id: CaseId, body: ReplyIn, session: SessionDep, user: CurrentUser) -> ReplyOut:
    """Message the reporter (only with their consent); the API never returns their address."""
    if (body.template is None) == (body.text is None):
        raise HTTPException(422, "give either template or text")
    message = _change(session, user, case_id,
                      lambda r: actions.reply(session, user=user, report=r, template=body.template, text=body.text))
    count = segments.count(actions.reply_text(queue.get_case(session, user=user, report_id=case_id),
                                              template=body.template, text=body.text))
    return ReplyOut(outbound_id=message.id, segments=count.segments, encoding=count.encoding)  # type: ignore[attr-defined]


# -- escalation, closing, rerouting, evidence ---------------------------------------------------
def escalation_info(session: Session, escalation) -> EscalationInfo:  # type: ignore[no-untyped-def]
    from service.bodies.models import GrievanceBody

    body = session.get(GrievanceBody, escalation.body_id)
    return EscalationInfo(id=escalation.id, body=body.slug if body else None, body_name=body.name_en if body else None,
                          rung=escalation.rung, status=escalation.status, due_at=escalation.due_at,
                          created_at=escalation.created_at)


@router.get("/{case_id}/escalation", response_model=EscalationState, responses=ERRORS)
def escalation_state(case_id: CaseId, session: SessionDep, user: CurrentUser) -> EscalationState:
    """The current escalation (body, rung, deadline, status), the case's ladder and its evidence ids."""
    try:
        report = queue.get_case(session, user=user, report_id=case_id)
    except DomainError as exc:
        raise http_error(exc) from None
    view = handling.escalation_view(session, report)
    return EscalationState(
        current=escalation_info(session, view.current) if view.current else None,
        rule=view.rule.rule_key if view.rule else None, needs_reroute=view.needs_reroute,
        ladder=[LadderRung(rung=r["rung"], level=r["level"], body=r["body"], name_en=r["name_en"], current=r["current"])
                for r in view.ladder],
        evidence=[e.id for e in handling.evidence_list(session, report)])  # type: ignore[misc]


@router.post("/{case_id}/escalate", response_model=EscalateOut, responses=ERRORS)
def escalate(case_id: CaseId, body: EscalateIn, session: SessionDep, user: CurrentUser) -> EscalateOut:
    """Send the case to the next body on its ladder. `after` = the latest escalation id you saw (0: none);
    repeating a request with the same `after` returns the escalation it made (`created: false`)."""
    result = _change(session, user, case_id,
                     lambda r: handling.escalate(session, user=user, report=r, after=body.after))
    escalation, created = result  # type: ignore[misc]
    return EscalateOut(escalation=escalation_info(session, escalation), created=created)


@router.post("/{case_id}/close", response_model=Done, responses=ERRORS)
def close(case_id: CaseId, session: SessionDep, user: CurrentUser) -> Done:
    """Close the case: waiting escalations are cancelled, the reporter is told, contact erasure scheduled."""
    _change(session, user, case_id, lambda r: handling.close(session, user=user, report=r))
    return Done()


@router.post("/{case_id}/reroute", response_model=Done, responses=ERRORS)
def reroute(case_id: CaseId, body: RerouteIn, session: SessionDep, user: CurrentUser) -> Done:
    """Route the case by another routing rule (after a body said "not ours"); it may move to another organisation."""
    _change(session, user, case_id, lambda r: handling.reroute(session, user=user, report=r, rule_key=body.rule_key))
    return Done()


@router.get("/{case_id}/evidence/{evidence_id}", responses={**ERRORS, 200: {
    "content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}, "application/pdf": {}},
    "description": "the cleaned file"}}, response_class=Response)
def evidence_file(case_id: CaseId, evidence_id: CaseId, request: Request, session: SessionDep,
                  user: CurrentUser) -> Response:
    """One evidence file of the case, decrypted (never cached; the view is audited)."""
    try:
        report = queue.get_case(session, user=user, report_id=case_id)
        data, mime = handling.open_evidence(session, user=user, report=report, evidence_id=evidence_id, via="api",
                                            settings=request.app.state.settings)
    except DomainError as exc:
        session.rollback()
        raise http_error(exc) from None
    session.commit()
    return evidence_response(data, mime)


def evidence_response(data: bytes, mime: str) -> Response:
    return Response(data, media_type=mime, headers={
        "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Content-Disposition": "inline",
        "Content-Security-Policy": "sandbox; default-src 'none'; img-src 'self'", "Referrer-Policy": "no-referrer"})


_ = InvalidInput
