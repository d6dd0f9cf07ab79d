"""The web review queue: the queue, a case and its actions, the public status page.

Each domain's own pages are in its package (`pages.py`: sign-in and accounts in service/auth, the
audit log in service/audit, dead letters and the development outbox in service/outbox, outreach
workers' link codes in service/agents); service/web/setup.py wires them all.

Server-rendered (Jinja2) with htmx for the self-refreshing list. Every form carries a CSRF
token tied to the session; nothing changes state on GET.
"""

from __future__ import annotations

import asyncio
from pathlib import Path as FilePath
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from service.auth.principal import Principal
from service.analytics.escalations import LEVEL_LABELS
from service.auth import service as auth
from service.auth.deps import SessionDep, WebUser
from service.db import read_only_options
from service.kit import ratelimit
from service.intake.texts import STATUS_LABELS
from service.kit import cache, receipts, segments, zones
from service.kit.clock import as_utc
from service.kit.errors import DomainError, InvalidInput
from service.orgs import service as orgs
from service.orgs.models import SUPERVISING, Organisation, User
from service.places import service as place_service
from service.queue import actions, handling, reasons
from service.queue import service as queue
from service.queue.routes import EngineDep, evidence_response, readers
from service.reports.models import ALLOWED_TRANSITIONS, CATEGORIES, CHANNELS, POPULATIONS, URGENCIES, Report
from service.reports import codes, fees
from service.reports.service import find_by_code
from service.supervision import replies as org_replies
from service.supervision import tags as tagging
from service.retaliation import service as retaliation
from service.kit.render import (
    Csrf,
    attempt,
    cached_fragment,
    check_csrf,
    env,
    fragment,
    language,
    need_user,
    page,
    redirect,
    time_zone,
    translator,
)
from service.kit.websession import COOKIE
from service.kit.models import require_id

router = APIRouter(include_in_schema=False)
CaseId = Annotated[int, Path(ge=1, le=2**31 - 1)]
ALL_STATUSES = (
    "received",
    "triaged",
    "in_progress",
    "escalated",
    "responded",
    "resolved",
    "closed",
    "duplicate",
    "withdrawn",
    "rejected",
)


async def _filters(request: Request) -> queue.Filters:
    """The queue's filters from the query string. `async def`: it only parses the request, so it runs
    on the event loop instead of costing a hand-off to a thread (docs/benchmarks.md, review queue)."""
    return queue.filters_from_query(request.query_params)


# -- the queue ---------------------------------------------------------------------------------

QueueFilters = Annotated[queue.Filters, Depends(_filters)]


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, filters: QueueFilters, engine: EngineDep) -> Response:
    """The queue (signed in) or the sign-in page.

    The busiest page, so it reads the way the JSON list does (docs/review-queue.md, "Speed"): the
    session, the page of rows and the rendering happen in ONE call on the list's own thread pool,
    on one read-only connection. The quick filters' counts are not computed here: the page asks
    for them with a second request (`/queue/counts`, htmx `hx-trigger="load"`), or inline with
    `counts=1` (the link shown without JavaScript)."""
    heavy = filters.q is not None or request.query_params.get("counts") == "1"
    return await asyncio.get_running_loop().run_in_executor(
        readers(engine, heavy=heavy), _home, engine, request, filters
    )


def _read_caller(session: Session, engine: Engine, request: Request) -> Principal | None:
    """The signed-in web user, on a read-only connection (the queue's reads); None when signed out."""
    session.connection(execution_options=read_only_options(engine))
    cookie = request.cookies.get(COOKIE)
    caller = auth.resolve_caller(session, token=cookie, kind="web") if cookie else None
    if caller is not None:
        request.state.user = caller
        request.state.time_zone = zones.name_for(caller)  # the zone the rows' dates are shown in
    return caller


def _signed_out(request: Request) -> Response | None:
    """An htmx refresh after the session ended sends the whole page to sign-in; None for a plain request."""
    return Response(status_code=204, headers={"HX-Redirect": "/"}) if request.headers.get("hx-request") else None


def _list_args(request: Request) -> dict[str, str]:
    """The query's filters, without the page position and the inline-counts switch."""
    return {k: v for k, v in request.query_params.items() if k not in ("cursor", "counts") and v}


def _home(engine: Engine, request: Request, filters: queue.Filters) -> Response:
    with Session(engine, expire_on_commit=False) as session:
        caller = _read_caller(session, engine, request)
        if caller is None:
            return _signed_out(request) or page(request, "login.html")
        cursor = request.query_params.get("cursor") or None
        try:
            result = queue.queue_rows(session, user=caller, filters=filters, cursor=cursor)
        except DomainError:
            cursor = None
            result = queue.queue_rows(session, user=caller, filters=filters)
        rows = row_view(
            result,
            queue.place_names(session, result.rows),
            language(request),
            time_zone(request),
            failed=queue.undelivered(session, [r.id for r in result.rows]),
            tags=tagging.tags_for(session, [r.id for r in result.rows]),
        )
        args = _list_args(request)
        query = urlencode(args)
        if request.headers.get("hx-request"):  # the list refreshing itself every 30 s: only the rows
            response = page(
                request, "_rows.html", rows=rows, next_cursor=result.next_cursor, query=query, cursor=cursor
            )
        else:
            # Without JavaScript the counts come inline on demand (`counts=1`), as before.
            inline = request.query_params.get("counts") == "1"
            counts, partial = _count(session, caller, filters) if inline else (None, False)
            places = queue.place_choices(session)
            form = cached_fragment(
                request,
                "_filters.html",
                filters,
                lambda: {
                    "filters": filters,
                    "places": places,
                    "categories": CATEGORIES,
                    "urgencies": URGENCIES,
                    "channels": CHANNELS,
                    "populations": POPULATIONS,
                    "statuses": ALL_STATUSES,
                },
                holds=places,
            )
            # the quick filters without counts depend only on the language and the query: kept like the form
            quick_bar = (
                None
                if counts is not None
                else cached_fragment(
                    request,
                    "_quick.html",
                    tuple(args.items()),
                    lambda: {
                        "counts": None,
                        "partial": False,
                        "cap": queue.COUNT_CAP,
                        "quick": _quick_links(args),
                        "filters": filters,
                        "filtered": bool(args),
                    },
                )
            )
            rows_html = fragment(
                request, "_rows.html", rows=rows, next_cursor=result.next_cursor, query=query, cursor=cursor
            )
            response = page(
                request,
                "queue.html",
                rows_html=rows_html,
                counts=counts,
                members=_bulk_members(session, caller),
                partial=partial,
                args=args,
                query=query,
                filters=filters,
                filter_form=form,
                cursor=cursor,
                cap=queue.COUNT_CAP,
                quick_bar=quick_bar,
                quick=_quick_links(args) if counts is not None else None,
                filtered=bool(args),
            )
    auth.touch_after_read(engine, caller=caller)
    return response


def _bulk_members(session: Session, caller: Any) -> list[tuple[int, str]]:
    """Whom the queue's bulk form offers to give cases to: a supervisor the organisation's active
    members, a handler only themself (the one-case rule, service/queue/actions.py `assign`)."""
    if caller.org_id is None:
        return []
    if caller.role not in SUPERVISING:
        return [(caller.id, caller.email)]
    return [
        (uid, email)
        for uid, email in session.exec(
            select(User.id, User.email)
            .where(User.org_id == caller.org_id, col(User.is_active).is_(True))
            .order_by(col(User.email))
        ).all()
        if uid is not None
    ]  # a primary key: never None


def _label(_: Any, kind: str, value: str | None, known: tuple[str, ...]) -> str | None:
    """A code's label in the reader's language; a value with no label prints itself (escaped by the template)."""
    if not value:
        return None
    return _(f"{kind}:{value}") if value in known else value


# Rows already written, by everything a row's HTML depends on: the row's values, the language, the
# zone, whether it is overdue now, its place's name, its delivery failure and its tags. A row that
# changed is another key, so nothing here is ever stale; the queue refreshing itself every 30 s
# mostly shows rows it has shown before.
_ROW_HTML = cache.named("web.queue_rows", maxsize=10_000)  # about 1 KB each (the key holds the row, the value its <tr>)


def row_view(
    found: queue.QueueRows,
    names: dict,
    lang: str,
    tz: str | None = None,
    *,
    failed: set[int] | frozenset[int] = frozenset(),
    tags: dict[int, tuple[str, ...]] | None = None,
) -> Markup:
    """The queue's rows (`<tr>`s) as `_rows.html` shows them, labels in `lang`, dates in the zone `tz`.

    Each row is the autoescaped macro `queue_row` of `_queue_row.html` (every value from the
    database escaped there), and each row's HTML is kept by its content (`_ROW_HTML`): the
    30-second refresh mostly shows rows already written (docs/review-queue.md, "Speed of the web
    queue"). `failed`: the ids of cases with a message that could not be delivered; `tags`: each
    case's tags (service/supervision/tags.py `tags_for`)."""
    at, open_, km = found.at, queue.OPEN_STATUSES, lang == "km"
    kept = _ROW_HTML
    macro = None
    _ = translator(lang)
    out = []
    for row in found.rows:  # queue.ListRow (or a SQLAlchemy row of the same columns, from a search)
        due = row.due_at
        overdue = due is not None and due < at and row.status in open_
        place = names[row.place_id][km] if row.place_id in names else None
        undelivered = row.id in failed
        row_tags = tags.get(row.id, ()) if tags else ()
        key = cache.Key(row, lang, tz, overdue, place, undelivered, row_tags)
        html = kept.get(key)
        if html is None:
            if macro is None:
                macro = env.get_template("_queue_row.html").module.queue_row  # type: ignore[attr-defined]  # a template's macros are made at run time
            html = kept.put(key, str(macro(_row_values(row, _, overdue, place, undelivered, tz, row_tags), _)))
        out.append(html)
    return Markup("\n".join(out))


def _row_values(
    row: tuple, _: Any, overdue: bool, place: str | None, undelivered: bool, tz: str | None, tags: tuple[str, ...]
) -> dict[str, Any]:
    """What `queue_row` prints for one row (plain values: the template escapes them). The row is
    unpacked in queue.LIST_COLUMNS order."""
    (
        rid,
        status,
        category,
        urgency,
        _channel,
        _population,
        _language,
        _place_id,
        story,
        created,
        _updated,
        due,
        assigned,
        _cluster,
        _org,
    ) = row
    reply_by = None
    if due is None and status in queue.AWAITING_FIRST_RESPONSE and created is not None:  # nobody has acted yet
        reply_by = zones.show(queue.first_response_due(created, urgency), tz)
    return {
        "id": int(rid),
        "urgency": urgency,
        "urgency_label": _label(_, "urgency", urgency, URGENCIES) or "",
        "overdue": overdue,
        "category_label": _label(_, "category", category, CATEGORIES),
        "story": story[:140] + "…" if len(story) > 140 else story,
        # each tag a link to the queue filtered by it
        "tags": [(t, "/?" + urlencode({"tag": t})) for t in tags],
        "place": place,
        "status_label": _label(_, "status", status, ALL_STATUSES) or "",
        "assigned": bool(assigned),
        "undelivered": undelivered,
        "due": zones.show(due, tz) if due is not None else None,
        "reply_by": reply_by,
    }


def _count(session: Session, caller: Principal, filters: queue.Filters) -> tuple[dict[str, int], bool]:
    """The quick filters' counts and whether they are lower bounds: exact and capped for the plain
    queue (queue_counts), from one bounded read for a filtered view (view_counts)."""
    if replace(filters, q=None) == queue.Filters():
        return queue.queue_counts(session, user=caller, cap=queue.COUNT_CAP), False
    found = queue.view_counts(session, user=caller, filters=filters, cap=queue.COUNT_CAP, scan=queue.COUNT_SCAN)
    return found.counts, found.partial


QUICK = (
    ("urgency:urgent", "urgency", "urgent"),
    ("overdue", "overdue", "1"),
    ("unassigned", "assigned", "unassigned"),
    ("mine", "assigned", "me"),
    *((f"status:{s}", "status", s) for s in queue.OPEN_STATUSES),
)


def _quick_links(args: dict[str, str]) -> dict[str, str]:
    """Each quick filter's link: the current filters with that one filter set (what its count counts)."""
    return {
        key: "/?" + urlencode({**{k: v for k, v in args.items() if k != name}, name: value})
        for key, name, value in QUICK
    }


@router.get("/queue/counts", response_class=HTMLResponse)
async def counts_fragment(request: Request, filters: QueueFilters, engine: EngineDep) -> Response:
    """The quick filters with their counts, for the current filters (the queue page loads it after itself)."""
    return await asyncio.get_running_loop().run_in_executor(
        readers(engine, heavy=True), _counts, engine, request, filters
    )


def _counts(engine: Engine, request: Request, filters: queue.Filters) -> Response:
    with Session(engine, expire_on_commit=False) as session:
        caller = _read_caller(session, engine, request)
        if caller is None:
            return _signed_out(request) or redirect("/")
        counts, partial = _count(session, caller, filters)
        args = _list_args(request)
        response = page(
            request,
            "_quick.html",
            counts=counts,
            partial=partial,
            cap=queue.COUNT_CAP,
            quick=_quick_links(args),
            filters=filters,
            filtered=bool(args),
        )
    auth.touch_after_read(engine, caller=caller)
    return response


# -- a case -----------------------------------------------------------------------------------


@router.get("/cases/{case_id}", response_class=HTMLResponse)
async def case_page(case_id: CaseId, request: Request, engine: EngineDep) -> Response:
    """A case. Every view is audited, and the page is answered only once its audit entry is
    committed; but the page is READ on a read-only connection (on SQLite: a WAL snapshot, no
    write lock held while the page is put together and rendered), and the entry is written by the
    app's writer thread, which commits the views that arrive together in one transaction (one
    fsync), in the order they came, each chained to the one before (service/audit). Before, each
    view held SQLite's write lock for its whole page: 32 handlers at once queued behind each other
    (docs/benchmarks.md, review queue). The read takes a few milliseconds: it runs on the pool of
    the searches and counts, so the plain list pages never wait behind it."""
    response, viewed = await asyncio.get_running_loop().run_in_executor(
        readers(engine, heavy=True), _read_case, engine, request, case_id
    )
    if viewed is not None:
        caller, report_id = viewed
        await request.app.state.writer.run(
            lambda session: actions.record_view_of(session, user=caller, report_id=report_id, via="web")
        )
        auth.touch_after_read(engine, caller=caller)
    return response


def _read_case(engine: Engine, request: Request, case_id: int) -> tuple[Response, tuple[Principal, int] | None]:
    """The case page and, when it shows a case, who viewed which case (to audit); runs on a reader thread."""
    with Session(engine, expire_on_commit=False) as session:
        caller = _read_caller(session, engine, request)
        if caller is None:
            return redirect("/"), None
        try:
            report = queue.get_case(session, user=caller, report_id=case_id)
        except DomainError:
            return page(request, "error.html", 404, message="No such case."), None
        return _case_response(request, session, report), (caller, case_id)


def _render_case(
    request: Request,
    session: Session,
    user: Principal,
    case_id: CaseId,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    try:
        report = queue.get_case(session, user=user, report_id=case_id)
    except DomainError:
        return page(request, "error.html", 404, message="No such case.")
    actions.record_view(session, user=user, report=report, via="web")
    response = _case_response(request, session, report, error=error, status_code=status_code)
    session.commit()
    return response


def _case_response(
    request: Request, session: Session, report: Report, *, error: str | None = None, status_code: int = 200
) -> Response:
    place = place_service.names_of(session, report.place_id) if report.place_id else None
    members = orgs.active_members(session, report.org_id) if report.org_id else []
    # Only the assignee's email is shown: an active member's is in the list already.
    assignee: orgs.Member | User | None = next((m for m in members if m.id == report.assigned_user_id), None)
    if assignee is None and report.assigned_user_id:
        assignee = session.get(User, report.assigned_user_id)
    can_reply = actions.can_reply(session, report)
    templates = {
        key: segments.count(actions.reply_text(report, template=key, text=None)) for key in actions.REPLY_TEMPLATES
    }
    own_replies = org_replies.for_case(session, report)  # the organisation's templates (docs/supervisors.md)
    timeline = actions.timeline(session, report)
    escalation = handling.escalation_view(session, report)
    templates.update({key: segments.count(text) for key, text in own_replies.items()})
    response = page(
        request,
        "case.html",
        status_code,
        report=report,
        place=place,
        error=error,
        timeline=timeline,
        overdue=queue.is_overdue(report),
        allowed=ALLOWED_TRANSITIONS.get(report.status, ()),
        members=members,
        assignee=assignee,
        can_reply=can_reply,
        template_counts=templates,
        reply_templates={
            **{k: actions.reply_text(report, template=k, text=None) for k in actions.REPLY_TEMPLATES},
            **own_replies,
        },
        categories=CATEGORIES,
        urgencies=URGENCIES,
        populations=POPULATIONS,
        esc=escalation,
        clock=handling.clock_state(session, report, language=language(request), view=escalation),
        evidence=handling.evidence_list(session, report),
        route_choices=handling.route_choices(session),
        failed=handling.failed_deliveries(session, report, lang=language(request)),
        tags=tagging.tags_of(session, require_id(report)),
        checkin_card=retaliation.card(
            session, require_id(report), [(e.at, e.kind, e.actor, e.detail) for e in timeline]
        ),
        checkin_may_send=_viewer_may_send_again(request, report),
        reason_sentences=reasons.sentences(report.triage_reasons, language(request)),
        fee_shown=fees.money(report.fee_cents, report.fee_currency, language(request)),
        fee_number=fees.plain_number(report.fee_cents),
        fee_currencies=fees.FEE_CURRENCIES,
        fee_words=" ".join(fees.reason_words(report.fee_reasons)),
        fee_text=lambda d: fees.money((d or {}).get("cents"), (d or {}).get("currency"), language(request)) or "–",
        perpetrator_types=codes.PERPETRATOR_TYPES,
        violation_types=codes.VIOLATION_TYPES,
        code_reason_sentences=reasons.code_sentences(codes.suggestion_reasons(report), language(request)),
        first_response_due=queue.first_response_due(report.created_at, report.urgency)
        if report.status in queue.AWAITING_FIRST_RESPONSE and report.due_at is None
        else None,
    )
    return response


def _viewer_may_send_again(request: Request, report: Report) -> bool:
    """Whether the case page shows its reader the "Send the check-in again" button."""
    viewer = getattr(request.state, "user", None)
    return isinstance(viewer, Principal) and retaliation.may_send_again(viewer, report)


def _act(
    request: Request, session: Session, user: Principal | None, case_id: CaseId, csrf_token: str, fn: Any
) -> Response:
    user = need_user(user)
    check_csrf(request, csrf_token)
    return attempt(
        session,
        lambda: fn(user, queue.get_case(session, user=user, report_id=case_id)),
        done=lambda _: redirect(f"/cases/{case_id}#timeline"),
        failed=lambda exc, code: case_refused(request, session, user, case_id, exc, code, status_code=409),
    )


def case_refused(
    request: Request, session: Session, user: Principal, case_id: int, exc: Exception, code: int, *, status_code: int
) -> Response:
    """The answer to a refused change on a case: "No such case" (404) for one the user may not see,
    else the case page again with the message (`status_code`)."""
    if code == 404:
        return page(request, "error.html", 404, message="No such case.")
    return _render_case(request, session, user, case_id, error=str(exc), status_code=status_code)


@router.post("/cases/{case_id}/claim")
def web_claim(case_id: CaseId, request: Request, session: SessionDep, user: WebUser, csrf_token: Csrf = "") -> Response:
    return _act(request, session, user, case_id, csrf_token, lambda u, r: actions.claim(session, user=u, report=r))


@router.post("/cases/{case_id}/release")
def web_release(
    case_id: CaseId, request: Request, session: SessionDep, user: WebUser, csrf_token: Csrf = ""
) -> Response:
    return _act(request, session, user, case_id, csrf_token, lambda u, r: actions.release(session, user=u, report=r))


@router.post("/cases/{case_id}/assign")
def web_assign(
    case_id: CaseId,
    request: Request,
    session: SessionDep,
    user: WebUser,
    user_id: Annotated[int, Form(ge=1, le=2**31 - 1)],
    csrf_token: Csrf = "",
) -> Response:
    return _act(
        request,
        session,
        user,
        case_id,
        csrf_token,
        lambda u, r: actions.assign(session, user=u, report=r, assignee_id=user_id),
    )


@router.post("/cases/{case_id}/note")
def web_note(
    case_id: CaseId,
    request: Request,
    session: SessionDep,
    user: WebUser,
    text: Annotated[str, Form(max_length=4000)],
    csrf_token: Csrf = "",
) -> Response:
    return _act(
        request, session, user, case_id, csrf_token, lambda u, r: actions.add_note(session, user=u, report=r, text=text)
    )


@router.post("/cases/{case_id}/status")
def web_status(
    case_id: CaseId,
    request: Request,
    session: SessionDep,
    user: WebUser,
    to: Annotated[str, Form(max_length=16)] = "",
    reason: Annotated[str, Form(max_length=500)] = "",
    csrf_token: Csrf = "",
) -> Response:
    def move(u: Principal, r: Report) -> None:
        if not to:
            raise InvalidInput("Choose a status first.")
        actions.set_status(session, user=u, report=r, to=to, reason=reason)

    return _act(request, session, user, case_id, csrf_token, move)


@router.post("/cases/{case_id}/triage")
def web_triage(
    case_id: CaseId,
    request: Request,
    session: SessionDep,
    user: WebUser,
    category: Annotated[str, Form(max_length=40)] = "",
    urgency: Annotated[str, Form(max_length=8)] = "",
    population: Annotated[str, Form(max_length=40)] = "",
    csrf_token: Csrf = "",
) -> Response:
    # The form's population: absent (the "Mark urgent" button) keeps it, "none" means not known.
    chosen = actions.KEEP if not population else (None if population == "none" else population)
    return _act(
        request,
        session,
        user,
        case_id,
        csrf_token,
        lambda u, r: actions.correct_triage(
            session, user=u, report=r, category=category or None, urgency=urgency or None, population=chosen
        ),
    )


@router.post("/cases/{case_id}/codes")
def web_codes(
    case_id: CaseId,
    request: Request,
    session: SessionDep,
    user: WebUser,
    perpetrator_type: Annotated[str, Form(max_length=32)] = "",
    violation_type: Annotated[str, Form(max_length=32)] = "",
    csrf_token: Csrf = "",
) -> Response:
    return _act(
        request,
        session,
        user,
        case_id,
        csrf_token,
        lambda u, r: actions.set_codes(
            session, user=u, report=r, perpetrator_type=perpetrator_type, violation_type=violation_type
        ),
    )


@router.post("/cases/{case_id}/fee")
def web_fee(
    case_id: CaseId,
    request: Request,
    session: SessionDep,
    user: WebUser,
    amount: Annotated[str, Form(max_length=24)] = "",
    currency: Annotated[str, Form(max_length=3)] = "",
    csrf_token: Csrf = "",
) -> Response:
    return _act(
        request,
        session,
        user,
        case_id,
        csrf_token,
        lambda u, r: actions.correct_fee(session, user=u, report=r, amount=amount, currency=currency),
    )


@router.post("/cases/{case_id}/merge")
def web_merge(
    case_id: CaseId,
    request: Request,
    session: SessionDep,
    user: WebUser,
    into: Annotated[int, Form(ge=1, le=2**31 - 1)],
    csrf_token: Csrf = "",
) -> Response:
    return _act(
        request, session, user, case_id, csrf_token, lambda u, r: actions.merge(session, user=u, report=r, into_id=into)
    )


@router.post("/cases/{case_id}/reply")
def web_reply(
    case_id: CaseId,
    request: Request,
    session: SessionDep,
    user: WebUser,
    template: Annotated[str, Form(max_length=32)] = "",
    text: Annotated[str, Form(max_length=640)] = "",
    wait: Annotated[str, Form(max_length=1)] = "",
    csrf_token: Csrf = "",
) -> Response:
    return _act(
        request,
        session,
        user,
        case_id,
        csrf_token,
        lambda u, r: handling.reply(
            session, user=u, report=r, template=template or None, text=None if template else text, wait=wait == "1"
        ),
    )


@router.post("/cases/{case_id}/clock/resume")
def web_clock_resume(
    case_id: CaseId, request: Request, session: SessionDep, user: WebUser, csrf_token: Csrf = ""
) -> Response:
    """Stop waiting on the reporter: the body's paused deadline runs again."""
    return _act(
        request, session, user, case_id, csrf_token, lambda u, r: handling.resume_clock(session, user=u, report=r)
    )


@router.post("/cases/{case_id}/reply/segments", response_class=HTMLResponse)
def web_reply_segments(
    request: Request, user: WebUser, text: Annotated[str, Form(max_length=640)] = "", csrf_token: Csrf = ""
) -> Response:
    """The live SMS segment count under the free-text reply box (changes nothing)."""
    need_user(user)
    check_csrf(request, csrf_token)
    count = segments.count(text)
    return page(request, "_segments.html", count=count, chars=len(text))


# -- escalation, closing, rerouting, evidence ----------------------------------------------------


@router.get("/cases/{case_id}/escalate", response_class=HTMLResponse)
def web_escalate_confirm(
    case_id: CaseId,
    request: Request,
    session: SessionDep,
    user: WebUser,
    after: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> Response:
    """Before escalating: where the case would go (body, rung, deadline, rungs passed over); the
    handler confirms with a POST from this page. A plain link and form: works without JavaScript."""
    if user is None:
        return redirect("/")
    try:
        report = queue.get_case(session, user=user, report_id=case_id)
    except DomainError:
        return page(request, "error.html", 404, message="No such case.")
    plan = handling.escalation_preview(session, report)
    return page(request, "escalate_confirm.html", report=report, plan=plan, after=after, level_labels=LEVEL_LABELS)


@router.post("/cases/{case_id}/escalate")
def web_escalate(
    case_id: CaseId,
    request: Request,
    session: SessionDep,
    user: WebUser,
    after: Annotated[int, Form(ge=0, le=2**31 - 1)] = 0,
    csrf_token: Csrf = "",
) -> Response:
    """`after` is the latest escalation id the page showed: a double submit is one escalation."""
    return _act(
        request,
        session,
        user,
        case_id,
        csrf_token,
        lambda u, r: handling.escalate(session, user=u, report=r, after=after),
    )


@router.post("/cases/{case_id}/close")
def web_close(case_id: CaseId, request: Request, session: SessionDep, user: WebUser, csrf_token: Csrf = "") -> Response:
    return _act(request, session, user, case_id, csrf_token, lambda u, r: handling.close(session, user=u, report=r))


@router.post("/cases/{case_id}/reroute")
def web_reroute(
    case_id: CaseId,
    request: Request,
    session: SessionDep,
    user: WebUser,
    rule_key: Annotated[str, Form(min_length=1, max_length=64)],
    csrf_token: Csrf = "",
) -> Response:
    response = _act(
        request,
        session,
        user,
        case_id,
        csrf_token,
        lambda u, r: handling.reroute(session, user=u, report=r, rule_key=rule_key),
    )
    if response.status_code == 303:
        try:  # rerouted to another organisation: the case has left this user's queue
            queue.get_case(session, user=need_user(user), report_id=case_id)
        except DomainError:
            return redirect("/?rerouted=1")
    return response


@router.get("/cases/{case_id}/evidence/{evidence_id}")
def web_evidence(
    case_id: CaseId, evidence_id: CaseId, request: Request, session: SessionDep, user: WebUser
) -> Response:
    """An evidence file of the case, decrypted, never cached; the view is audited."""
    user = need_user(user)
    try:
        report = queue.get_case(session, user=user, report_id=case_id)
        data, mime = handling.open_evidence(
            session, user=user, report=report, evidence_id=evidence_id, via="web", settings=request.app.state.settings
        )
    except DomainError:
        session.rollback()
        return page(request, "error.html", 404, message="No such case.")
    session.commit()
    return evidence_response(data, mime)


FAVICON = FilePath(__file__).parent / "static" / "favicon.ico"


# -- tags on a case: the case page's own actions (service/supervision/tags.py keeps the rules) ---------


def _tag_action(
    request: Request, session: Session, user: Principal | None, case_id: int, csrf_token: str, fn: Any
) -> Response:
    user = need_user(user)
    check_csrf(request, csrf_token)
    return attempt(
        session,
        lambda: fn(user, queue.get_case(session, user=user, report_id=case_id)),
        done=lambda _: RedirectResponse(f"/cases/{case_id}#tags", status_code=303),
        failed=lambda exc, code: case_refused(request, session, user, case_id, exc, code, status_code=422),
    )


@router.post("/cases/{case_id}/tags")
def tag_case(
    case_id: CaseId,
    request: Request,
    session: SessionDep,
    user: WebUser,
    tag: Annotated[str, Form(max_length=200)],
    csrf_token: Csrf = "",
) -> Response:
    return _tag_action(
        request, session, user, case_id, csrf_token, lambda u, r: tagging.add_tag(session, user=u, report=r, tag=tag)
    )


@router.post("/cases/{case_id}/tags/remove")
def untag_case(
    case_id: CaseId,
    request: Request,
    session: SessionDep,
    user: WebUser,
    tag: Annotated[str, Form(max_length=200)],
    csrf_token: Csrf = "",
) -> Response:
    return _tag_action(
        request, session, user, case_id, csrf_token, lambda u, r: tagging.remove_tag(session, user=u, report=r, tag=tag)
    )


@router.get("/favicon.ico", include_in_schema=False)
def favicon() -> Response:
    """The tab icon browsers ask for on every site (a 404 here fills the logs)."""
    return FileResponse(FAVICON, media_type="image/x-icon", headers={"Cache-Control": "public, max-age=86400"})


# -- the public status page -------------------------------------------------------------------


@router.get("/status", response_class=HTMLResponse)
def status_form(request: Request) -> Response:
    return page(request, "status.html")


@router.post("/status", response_class=HTMLResponse)
def status_lookup(
    request: Request, session: SessionDep, code: Annotated[str, Form(max_length=40)] = "", csrf_token: Csrf = ""
) -> Response:
    """Receipt code → public status label; failed guesses are limited like the SMS STATUS keyword."""
    check_csrf(request, csrf_token)
    settings = request.app.state.settings
    bucket = f"lookup-fail:web:{request.client.host if request.client else 'unknown'}"
    if (
        ratelimit.count(session, bucket, timedelta(hours=1)) >= settings.lookups_per_sender_hour
        or ratelimit.count(session, "lookup-fail:*", timedelta(minutes=1)) >= settings.lookups_global_minute
    ):
        return page(request, "status.html", 429, error="Too many attempts. Please try again in an hour.")
    parsed = receipts.parse(code)
    if parsed is None:
        return page(
            request, "status.html", 422, error="Send STATUS and your receipt code, for example STATUS 7K3M-9QXZ."
        )
    report = find_by_code(session, parsed)
    if report is None:
        ratelimit.hit(session, bucket)
        ratelimit.hit(session, "lookup-fail:*")
        session.commit()
        return page(
            request,
            "status.html",
            404,
            error="No report has the code {code}. Please check it and try again.",
            code=receipts.display(parsed),
        )
    return page(
        request,
        "status.html",
        label=STATUS_LABELS.get(report.status, STATUS_LABELS["received"]),
        code=receipts.display(parsed),
        updated=_report_day(session, report.updated_at, report.org_id),
    )


def _report_day(session: Session, at: datetime, org_id: int | None) -> str:
    """A date for the reporter: in the zone of the organisation handling the report (else the platform's)."""
    org = session.get(Organisation, org_id) if org_id else None
    return zones.show(as_utc(at), zones.name_for(None, org), "%Y-%m-%d")
