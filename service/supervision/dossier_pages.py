"""The supervisor's dossier page: the linked cases and what the dossier publishes (docs/escalation.md,
"Collective escalation: the dossier"). Read-only; dossiers are built over the API for now."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response

from service.analytics import dossier as published
from service.auth.deps import SessionDep, WebUser
from service.escalation import dossiers
from service.kit.errors import NotFound
from service.kit.i18n import N_
from service.kit.render import language, need_role, page
from service.supervision import service as sup

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
    contents = published.contents(session, dossier, language=language(request))
    threshold = contents.over_time.threshold
    return page(
        request,
        "dossier.html",
        dossier=dossier,
        case_ids=dossiers.case_ids(session, dossier),
        contents=contents,
        tables=[
            (N_("Cases per month and category"), "over-time", contents.over_time),
            (N_("Cases per province"), "places", contents.places),
            (N_("Bodies already asked, and how they answered"), "bodies", contents.bodies),
        ],
        below=threshold - 1,
        threshold=threshold,
    )
