"""JSON API for case handlers: /api/v1/cases. Every case is looked up through the caller's scope;
another organisation's case is 404, exactly like a case that does not exist."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, TypeVar

import orjson
from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from sqlalchemy import Engine
from sqlmodel import Session

from service.auth import service as auth
from service.bodies.models import GrievanceBody
from service.auth.deps import NOT_SIGNED_IN, NOT_SIGNED_IN_HEADERS, ApiUser, SessionDep, api_credentials
from service.db import read_only_options
from service.kit import segments
from service.kit.errors import DomainError, InvalidInput
from service.kit.problems import Problem, http_error
from service.queue import actions, handling
from service.queue.deps import CaseId, CaseInScope
from service.queue import service as queue
from service.queue.schemas import (
    AssignIn,
    CaseDetail,
    CodesIn,
    FeeIn,
    CaseListQuery,
    CasePage,
    CaseSummary,
    Done,
    EscalateIn,
    EscalateOut,
    EscalationInfo,
    EscalationState,
    InvalidQuery,
    LadderRung,
    MergeIn,
    NoteIn,
    ReplyIn,
    ReplyOut,
    RerouteIn,
    StatusIn,
    TimelineItem,
    TriageIn,
    list_query_parameters,
    parse_list_query,
)
from service.reports import fees
from service.reports.models import ALLOWED_TRANSITIONS, Report

log = logging.getLogger(__name__)
T = TypeVar("T")
router = APIRouter(prefix="/api/v1/cases", tags=["cases"])
ERRORS: dict[int | str, dict] = {
    401: {"description": "not signed in", "model": Problem},
    403: {"description": "not allowed", "model": Problem},
    404: {"description": "no such case", "model": Problem},
    409: {"description": "conflict", "model": Problem},
    422: {"description": "invalid input", "model": Problem},
    503: {"description": "unavailable", "model": Problem},
}


def summary(item: queue.QueueItem) -> CaseSummary:
    r = item.report
    return CaseSummary(
        id=r.id,
        status=r.status,
        category=r.category,
        urgency=r.urgency,
        channel=r.channel,
        population=r.population,
        language=r.language,
        place_id=r.place_id,
        place_name=item.place_name_en,
        narrative_masked=r.narrative_masked,
        created_at=r.created_at,
        updated_at=r.updated_at,
        due_at=r.due_at,
        overdue=item.overdue,
        assigned_user_id=r.assigned_user_id,
        cluster_id=r.cluster_id,
        org_id=r.org_id,
    )


def detail(session: Session, report: Report) -> CaseDetail:
    names = queue._place_names(session, {report.place_id}) if report.place_id else {}
    base = summary(
        queue.QueueItem(
            report=report, overdue=queue.is_overdue(report), place_name_en=names.get(report.place_id, (None, None))[0]
        )
    )
    return CaseDetail(
        **base.model_dump(),
        subcategory=report.subcategory,
        category_source=report.category_source,
        secondary_category=report.secondary_category,
        triage_confidence=report.triage_confidence,
        triage_language=report.triage_language,
        triage_reasons=report.triage_reasons,
        place_text_masked=report.place_text_masked,
        first_response_at=report.first_response_at,
        resolved_at=report.resolved_at,
        closed_at=report.closed_at,
        can_reply=actions.can_reply(session, report),
        fee_amount=fees.plain_number(report.fee_cents) or None,
        fee_currency=report.fee_currency,
        fee_source=report.fee_source,
        perpetrator_type=report.perpetrator_type,
        perpetrator_source=report.perpetrator_source,
        violation_type=report.violation_type,
        violation_source=report.violation_source,
        allowed_statuses=list(ALLOWED_TRANSITIONS.get(report.status, ())),
        timeline=[
            TimelineItem(at=e.at, kind=e.kind, actor=e.actor, detail=e.detail)
            for e in actions.timeline(session, report)
        ],
    )


async def list_query(request: Request) -> CaseListQuery:
    """The list's 13 query parameters, validated in one pydantic-core call (`CaseListQuery`); a bad
    one is the app's usual 422 that names the fields and never echoes the values.

    This and the two dependencies below are `async def` because they only read the request (no
    database, no file, microseconds of work): FastAPI runs a plain `def` dependency on a thread of
    its pool, and that hand-off (a queue, a lock, waking a thread and the loop) cost more CPU than
    the work itself (docs/benchmarks.md, review queue, "CPU per request")."""
    try:
        return parse_list_query(request.query_params)
    except InvalidQuery as exc:
        raise RequestValidationError(
            [{"loc": tuple(field.split(".")), "msg": "invalid", "type": "value_error"} for field in exc.fields]
        ) from None


async def list_credentials(request: Request) -> tuple[str, str]:
    """The caller's token and its kind, not looked up yet (`list_page` resolves it with the page); 401 without one."""
    credentials = api_credentials(request)
    if credentials is None:
        raise HTTPException(401, NOT_SIGNED_IN, headers=NOT_SIGNED_IN_HEADERS)
    return credentials


async def app_engine(request: Request) -> Engine:
    return request.app.state.engine


ListQuery = Annotated[CaseListQuery, Depends(list_query)]
Credentials = Annotated[tuple[str, str], Depends(list_credentials)]
EngineDep = Annotated[Engine, Depends(app_engine)]


@router.get("", response_model=CasePage, responses=ERRORS, openapi_extra={"parameters": list_query_parameters()})
async def list_cases(params: ListQuery, credentials: Credentials, engine: EngineDep) -> Response:
    """The caller's queue in queue order (urgent, deadline, age); `next_cursor` continues it."""
    # The busiest read of the app (docs/review-queue.md, "Speed"): the parameters are validated in
    # one step (CaseListQuery), and the caller's session, the page and the counts are read in ONE
    # worker-thread call on one read-only connection.
    pool = readers(engine, heavy=bool(params.q) or params.with_counts)
    status, body = await asyncio.get_running_loop().run_in_executor(pool, list_page, engine, credentials, params)
    return Response(
        body,
        status_code=status,
        media_type="application/json",
        headers=NOT_SIGNED_IN_HEADERS if status == 401 else None,
    )


# The threads that read lists. On SQLite, plain pages (about a millisecond each) go to ONE thread per
# process: with more, the threads mostly wait for the GIL each time SQLite hands a row back, and at 32
# connections a page cost twice its single-connection time (4 threads: 620 req/s against 1,140 at one
# connection; 1 thread: 1,090 — docs/benchmarks-history.md). On PostgreSQL a thread mostly waits for the
# server's answer with the GIL released, so four threads overlap those waits. Searches and counts
# (5–100 ms) get two threads of their own, so a slow one never holds up the plain pages behind it.
# Requests waiting for a thread wait on the event loop, for free.
LIST_READERS = {"sqlite": 1, "postgresql": 2}
HEAVY_READERS = 2
_pools: dict[tuple[str, bool], ThreadPoolExecutor] = {}


def readers(engine: Engine, *, heavy: bool) -> ThreadPoolExecutor:
    """The thread pool for one list read: `heavy` for a text search or counts."""
    key = (engine.dialect.name, heavy)
    pool = _pools.get(key)
    if pool is None:
        size = HEAVY_READERS if heavy else LIST_READERS.get(engine.dialect.name, 4)
        pool = _pools.setdefault(
            key, ThreadPoolExecutor(max_workers=size, thread_name_prefix="queue-search" if heavy else "queue-list")
        )
    return pool


def list_page(engine: Engine, credentials: tuple[str, str], params: CaseListQuery) -> tuple[int, bytes]:
    """Status and JSON body of one list request (runs in a worker thread: every database call is here).

    The session is resolved with the page on the same read-only connection, so a revoked or expired
    session is refused on the very next request (nothing about sessions is cached)."""
    token, kind = credentials
    with Session(engine, expire_on_commit=False) as session:
        session.connection(execution_options=read_only_options(engine))
        caller = auth.resolve_caller(session, token=token, kind=kind)
        if caller is None:
            return 401, orjson.dumps({"detail": NOT_SIGNED_IN})
        filters = queue.Filters(
            status=tuple(params.status or ()),
            category=params.category,
            urgency=params.urgency,
            place_id=params.place_id,
            channel=params.channel,
            population=params.population,
            assigned=params.assigned,
            overdue=params.overdue,
            cluster_id=params.cluster_id,
            q=params.q,
            tag=queue.filter_tag(params.tag),
        )
        try:
            page = queue.queue_rows(session, user=caller, filters=filters, cursor=params.cursor, limit=params.limit)
        except DomainError as exc:
            error = http_error(exc)
            return error.status_code, orjson.dumps({"detail": error.detail})
        names = queue.place_names(session, page.rows)
        counts = queue.queue_counts(session, user=caller) if params.with_counts else None
    auth.touch_after_read(engine, caller=caller)
    return 200, page_json(page, names, counts)


def page_json(page: queue.QueueRows, names: dict, counts: dict[str, int] | None) -> bytes:
    """A CasePage as JSON straight from the rows of queue.LIST_COLUMNS: the fields, order and
    formats of the CaseSummary model (tests/queue/test_list_api.py holds the two equal)."""
    at, open_ = page.at, queue.OPEN_STATUSES
    items = []
    for (
        rid,
        status,
        category,
        urgency,
        channel,
        population,
        language,
        place_id,
        narrative,
        created,
        updated,
        due,
        assigned,
        cluster,
        org,
    ) in page.rows:
        items.append(
            {
                "id": rid,
                "status": status,
                "category": category,
                "urgency": urgency,
                "channel": channel,
                "population": population,
                "language": language,
                "place_id": place_id,
                "place_name": names[place_id][0] if place_id in names else None,
                "narrative_masked": narrative,
                "created_at": created,
                "updated_at": updated,
                "due_at": due,
                "overdue": due is not None and due < at and status in open_,
                "assigned_user_id": assigned,
                "cluster_id": cluster,
                "org_id": org,
            }
        )
    return orjson.dumps({"items": items, "next_cursor": page.next_cursor, "counts": counts}, option=orjson.OPT_UTC_Z)


@router.get("/{case_id}", response_model=CaseDetail, responses=ERRORS)
def get_case(report: CaseInScope, session: SessionDep, user: ApiUser) -> CaseDetail:
    """One case with its triage, reasons and timeline (the view is audited)."""
    actions.record_view(session, user=user, report=report, via="api")
    out = detail(session, report)
    session.commit()
    return out


def _change(session: Session, report: Report, fn: Callable[[Report], T]) -> T:
    try:
        result = fn(report)
    except DomainError as exc:
        session.rollback()
        raise http_error(exc) from None
    session.commit()
    return result


@router.post("/{case_id}/claim", response_model=Done, responses=ERRORS)
def claim(report: CaseInScope, session: SessionDep, user: ApiUser) -> Done:
    _change(session, report, lambda r: actions.claim(session, user=user, report=r))
    return Done()


@router.post("/{case_id}/release", response_model=Done, responses=ERRORS)
def release(report: CaseInScope, session: SessionDep, user: ApiUser) -> Done:
    _change(session, report, lambda r: actions.release(session, user=user, report=r))
    return Done()


@router.post("/{case_id}/assign", response_model=Done, responses=ERRORS)
def assign(report: CaseInScope, body: AssignIn, session: SessionDep, user: ApiUser) -> Done:
    _change(session, report, lambda r: actions.assign(session, user=user, report=r, assignee_id=body.user_id))
    return Done()


@router.post("/{case_id}/notes", response_model=Done, responses=ERRORS)
def add_note(report: CaseInScope, body: NoteIn, session: SessionDep, user: ApiUser) -> Done:
    _change(session, report, lambda r: actions.add_note(session, user=user, report=r, text=body.text))
    return Done()


@router.post("/{case_id}/status", response_model=Done, responses=ERRORS)
def set_status(report: CaseInScope, body: StatusIn, session: SessionDep, user: ApiUser) -> Done:
    _change(session, report, lambda r: actions.set_status(session, user=user, report=r, to=body.to, reason=body.reason))
    return Done()


@router.post("/{case_id}/triage", response_model=Done, responses=ERRORS)
def correct_triage(report: CaseInScope, body: TriageIn, session: SessionDep, user: ApiUser) -> Done:
    population = body.population if "population" in body.model_fields_set else actions.KEEP
    _change(
        session,
        report,
        lambda r: actions.correct_triage(
            session, user=user, report=r, category=body.category, urgency=body.urgency, population=population
        ),
    )
    return Done()


@router.post("/{case_id}/fee", response_model=Done, responses=ERRORS)
def correct_fee(report: CaseInScope, body: FeeIn, session: SessionDep, user: ApiUser) -> Done:
    """Set or remove (empty amount) the amount the reporter was asked to pay. Audited."""
    _change(
        session,
        report,
        lambda r: actions.correct_fee(session, user=user, report=r, amount=body.amount, currency=body.currency),
    )
    return Done()


@router.post("/{case_id}/codes", response_model=Done, responses=ERRORS)
def set_codes(report: CaseInScope, body: CodesIn, session: SessionDep, user: ApiUser) -> Done:
    """Set the documentation codes (perpetrator type, violation type): a code, "" for none, or left out
    to keep it. Audited, on the timeline; triage's suggestions never overwrite them afterwards."""
    _change(
        session,
        report,
        lambda r: actions.set_codes(
            session, user=user, report=r, perpetrator_type=body.perpetrator_type, violation_type=body.violation_type
        ),
    )
    return Done()


@router.post("/{case_id}/merge", response_model=Done, responses=ERRORS)
def merge(report: CaseInScope, body: MergeIn, session: SessionDep, user: ApiUser) -> Done:
    _change(session, report, lambda r: actions.merge(session, user=user, report=r, into_id=body.into_case_id))
    return Done()


@router.post("/{case_id}/reply", response_model=ReplyOut, responses=ERRORS)
def reply(report: CaseInScope, body: ReplyIn, session: SessionDep, user: ApiUser) -> ReplyOut:
    """Message the reporter (only with their consent); the API never returns their address."""
    if (body.template is None) == (body.text is None):
        raise HTTPException(422, "give either template or text")
    message = _change(
        session,
        report,
        lambda r: handling.reply(
            session, user=user, report=r, template=body.template, text=body.text, wait=body.wait_for_answer
        ),
    )
    count = segments.count(actions.reply_text(report, template=body.template, text=body.text))
    return ReplyOut(outbound_id=message.id, segments=count.segments, encoding=count.encoding)


# -- escalation, closing, rerouting, evidence ---------------------------------------------------
def escalation_info(session: Session, escalation) -> EscalationInfo:
    body = session.get(GrievanceBody, escalation.body_id)
    return EscalationInfo(
        id=escalation.id,
        body=body.slug if body else None,
        body_name=body.name_en if body else None,
        rung=escalation.rung,
        status=escalation.status,
        due_at=escalation.due_at,
        created_at=escalation.created_at,
        counting=escalation.counting,
        paused_at=escalation.paused_at,
    )


@router.get("/{case_id}/escalation", response_model=EscalationState, responses=ERRORS)
def escalation_state(report: CaseInScope, session: SessionDep) -> EscalationState:
    """The current escalation (body, rung, deadline, status), the case's ladder and its evidence ids."""
    view = handling.escalation_view(session, report)
    return EscalationState(
        current=escalation_info(session, view.current) if view.current else None,
        rule=view.rule.rule_key if view.rule else None,
        needs_reroute=view.needs_reroute,
        ladder=[
            LadderRung(rung=r["rung"], level=r["level"], body=r["body"], name_en=r["name_en"], current=r["current"])
            for r in view.ladder
        ],
        evidence=[e.id for e in handling.evidence_list(session, report)],
    )


@router.post("/{case_id}/escalate", response_model=EscalateOut, responses=ERRORS)
def escalate(report: CaseInScope, body: EscalateIn, session: SessionDep, user: ApiUser) -> EscalateOut:
    """Send the case to the next body on its ladder. `after` = the latest escalation id you saw (0: none);
    repeating a request with the same `after` returns the escalation it made (`created: false`)."""
    result = _change(session, report, lambda r: handling.escalate(session, user=user, report=r, after=body.after))
    escalation, created = result
    return EscalateOut(escalation=escalation_info(session, escalation), created=created)


@router.post("/{case_id}/close", response_model=Done, responses=ERRORS)
def close(report: CaseInScope, session: SessionDep, user: ApiUser) -> Done:
    """Close the case: waiting escalations are cancelled, the reporter is told, contact erasure scheduled."""
    _change(session, report, lambda r: handling.close(session, user=user, report=r))
    return Done()


@router.post("/{case_id}/reroute", response_model=Done, responses=ERRORS)
def reroute(report: CaseInScope, body: RerouteIn, session: SessionDep, user: ApiUser) -> Done:
    """Route the case by another routing rule (after a body said "not ours"); it may move to another organisation."""
    _change(session, report, lambda r: handling.reroute(session, user=user, report=r, rule_key=body.rule_key))
    return Done()


@router.get(
    "/{case_id}/evidence/{evidence_id}",
    responses={
        **ERRORS,
        200: {
            "content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}, "application/pdf": {}},
            "description": "the cleaned file",
        },
    },
    response_class=Response,
)
def evidence_file(
    report: CaseInScope, evidence_id: CaseId, request: Request, session: SessionDep, user: ApiUser
) -> Response:
    """One evidence file of the case, decrypted (never cached; the view is audited)."""
    try:
        data, mime = handling.open_evidence(
            session, user=user, report=report, evidence_id=evidence_id, via="api", settings=request.app.state.settings
        )
    except DomainError as exc:
        session.rollback()
        raise http_error(exc) from None
    session.commit()
    return evidence_response(data, mime)


def evidence_response(data: bytes, mime: str) -> Response:
    return Response(
        data,
        media_type=mime,
        headers={
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
            "Content-Disposition": "inline",
            "Content-Security-Policy": "sandbox; default-src 'none'; img-src 'self'",
            "Referrer-Policy": "no-referrer",
        },
    )


_ = InvalidInput
