"""The supervisor's dossier page: the linked cases and what the dossier publishes (docs/escalation.md,
"Collective escalation: the dossier"), and building one from the cluster the queue shows. Sending it to a body
is a flow: its form posts to service/web/dossier_escalation.py."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import col, select

from service.analytics import dossier as published
from service.analytics import pages as printed
from service.auth.deps import SessionDep, WebUser
from service.bodies.models import GrievanceBody
from service.escalation import dossiers
from service.escalation.models import Escalation
from service.escalation.service import DOSSIER_LEVELS
from service.kit.errors import NotFound
from service.kit.i18n import N_
from service.kit.render import Csrf, act_then_redirect, check_csrf, language, need_role, page
from service.supervision import service as sup
from service.queue import service as queue
from service.supervision import tags as tagging
from service.supervision.dossier_api import build_recorded, close_recorded

router = APIRouter(include_in_schema=False)
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]

TEXTS = (
    N_("Dossier"),
    N_("Linked cases"),
    N_("Cases per month and category"),
    N_("Cases per province"),
    N_("Bodies already asked, and how they answered"),
    N_("Approved quotes"),
    N_("Too few cases for a quote to be shown safely."),
    N_("dossier:draft"),
    N_("dossier:escalated"),
    N_("dossier:answered"),
    N_("dossier:closed"),
    N_("Dossier title"),
    N_("Build a dossier from this cluster"),
    N_("Send the dossier to a national or regional body"),
    N_("Send"),
    N_("Sent to"),
    N_("Close the dossier"),
    N_("Why is it closed?"),
    N_("Close"),
    N_("Closed {when} by {who}: {reason}"),
    N_(
        "An escalation still waits for the body's answer: the body can still answer and its answer reaches "
        "the linked cases, but it gets no more reminders."
    ),
    N_("Build a dossier from these cases"),
    N_(
        "{body} did not answer by the deadline and no body is above it on the dossier's ladder (national, then "
        "regional), so it was not sent on: send it to another body or close it."
    ),
)


@router.get("/supervise/dossiers/{dossier_id}")
def dossier_page(dossier_id: Id, request: Request, session: SessionDep, user: WebUser) -> Response:
    if user is None:
        return RedirectResponse("/", status_code=303)
    user = need_role(user, sup.SUPERVISING, "supervisors and administrators only")
    try:
        dossier = dossiers.get(session, dossier_id, org_id=user.org_id)
    except NotFound:
        return page(request, "error.html", 404, message="No such dossier.")
    lang = language(request)
    contents = published.contents(session, dossier, language=lang)
    threshold = contents.over_time.threshold
    sent = [
        (session.get(GrievanceBody, e.body_id), e)
        for e in session.exec(
            select(Escalation).where(Escalation.dossier_id == dossier.id).order_by(col(Escalation.id))
        ).all()
    ]
    return page(
        request,
        "dossier.html",
        dossier=dossier,
        case_ids=dossiers.case_ids(session, dossier),
        contents=contents,
        map=published.province_map(contents.as_dict(), language=lang),
        tables=[
            (N_("Cases per month and category"), "over-time", contents.over_time),
            (N_("Cases per province"), "places", contents.places),
            (N_("Bodies already asked, and how they answered"), "bodies", contents.bodies),
        ],
        below=threshold - 1,
        threshold=threshold,
        bodies=list(
            session.exec(
                select(GrievanceBody)
                .where(col(GrievanceBody.level).in_(DOSSIER_LEVELS), col(GrievanceBody.active).is_(True))
                .order_by(col(GrievanceBody.slug))
            ).all()
        ),
        waiting=dossiers.waiting_escalation(session, dossier),
        sent=sent,
        # The latest escalation expired and nothing climbed above it: the top of the dossier's ladder.
        stalled=sent[-1][0] if sent and sent[-1][1].status == "expired" and dossier.status != "closed" else None,
    )


@router.get("/supervise/dossiers/{dossier_id}/dossier.pdf")
def dossier_pdf(
    dossier_id: Id,
    request: Request,
    session: SessionDep,
    user: WebUser,
    lang: Annotated[str, Query(pattern="^(en|km|pt)$")] = "en",
) -> Response:
    """The dossier printed (km, en, and pt for Southern Africa): what it publishes, nothing else. Audited."""
    if user is None:
        return RedirectResponse("/", status_code=303)
    user = need_role(user, sup.SUPERVISING, "supervisors and administrators only")
    try:
        dossier = dossiers.get(session, dossier_id, org_id=user.org_id)
    except NotFound:
        return page(request, "error.html", 404, message="No such dossier.")
    try:
        pdf = printed.dossier_pdf(session, dossier, language=lang, actor=user.email)
    except printed.PdfUnavailable as exc:
        return page(request, "error.html", 503, message=str(exc))
    session.commit()
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="dossier-{dossier.id}-{lang}.pdf"'},
    )


@router.post("/supervise/dossiers")
def build_from_cluster(
    request: Request,
    session: SessionDep,
    user: WebUser,
    title: Annotated[str, Form(max_length=200)] = "",
    cluster_id: Annotated[int, Form(ge=1, le=2**31 - 1)] = 0,
    csrf_token: Csrf = "",
) -> Response:
    """The queue's "Build a dossier from this cluster" button: every case of the cluster the organisation
    holds; then the dossier's page."""
    if user is None:
        return RedirectResponse("/", status_code=303)
    user = need_role(user, sup.SUPERVISING, "supervisors and administrators only")
    check_csrf(request, csrf_token)
    if user.org_id is None:
        return page(request, "error.html", 403, message="A dossier belongs to an organisation.")
    org_id = user.org_id

    def build() -> str:
        made = build_recorded(session, user, org_id=org_id, title=title, cluster_id=cluster_id)
        return f"/supervise/dossiers/{made.id}"

    return act_then_redirect(request, session, build)


@router.post("/supervise/dossiers/{dossier_id}/close")
def close_from_page(
    dossier_id: Id,
    request: Request,
    session: SessionDep,
    user: WebUser,
    reason: Annotated[str, Form(max_length=1000)] = "",
    csrf_token: Csrf = "",
) -> Response:
    """The dossier page's "Close" button: the same as the API; back to the dossier's page."""
    if user is None:
        return RedirectResponse("/", status_code=303)
    user = need_role(user, sup.SUPERVISING, "supervisors and administrators only")
    check_csrf(request, csrf_token)

    def close() -> str:
        dossier = dossiers.get(session, dossier_id, org_id=user.org_id)
        close_recorded(session, user, dossier, reason)
        return f"/supervise/dossiers/{dossier.id}"

    return act_then_redirect(request, session, close)


@router.post("/filters/{filter_id}/dossier")
def build_from_saved_view(
    filter_id: Id,
    request: Request,
    session: SessionDep,
    user: WebUser,
    title: Annotated[str, Form(max_length=200)] = "",
    csrf_token: Csrf = "",
) -> Response:
    """A saved view's "Build a dossier from these cases": the organisation's cases the view shows now (every
    page), its query string kept as the dossier's source; then the dossier's page."""
    if user is None:
        return RedirectResponse("/", status_code=303)
    user = need_role(user, sup.SUPERVISING, "supervisors and administrators only")
    check_csrf(request, csrf_token)
    if user.org_id is None:
        return page(request, "error.html", 403, message="A dossier belongs to an organisation.")
    view = next((v for v in tagging.visible_filters(session, user=user) if v.id == filter_id), None)
    if view is None:
        return page(request, "error.html", 404, message="no such saved view")
    filters = queue.filters_from_query(dict(parse_qsl(view.query)))
    org_id, query = user.org_id, view.query

    def build() -> str:
        ids = queue.org_case_ids(session, user=user, filters=filters, limit=dossiers.MAX_CASES + 1)
        made = build_recorded(session, user, org_id=org_id, title=title, report_ids=ids, filter_query=query)
        return f"/supervise/dossiers/{made.id}"

    return act_then_redirect(request, session, build)
