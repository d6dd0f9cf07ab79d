"""The supervisor's pages: the workload of each handler with reassignment and bulk actions, and the
grievance bodies (list for supervisors; create, edit, deactivate, API token for a platform administrator).

Server-rendered like the rest of the review queue: every form carries the session's CSRF token, nothing
changes on GET, and each change is audited by the service functions it calls.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Form, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session, col, select

from service.auth.principal import Principal
from service.auth.deps import SessionDep, WebUser
from service.audit.service import record
from service.bodies import admin as bodies_admin
from service.bodies.models import LEVELS, GrievanceBody
from service.bodies.service import LANGUAGES, deadline_for, get_body, jurisdiction_codes, list_bodies
from service.kit.errors import NotFound
from service.orgs.models import Organisation
from service.orgs.service import set_org_calendar
from service.reports.models import CATEGORIES
from service.supervision import service as sup
from service.supervision import replies
from service.supervision import tags as tagging
from service.kit import segments, workingtime, zones
from service.kit.models import require_id
from service.kit.render import Csrf, attempt, check_csrf, need_role, need_user, page

router = APIRouter(include_in_schema=False)
Slug = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
UNASSIGNED = "unassigned"


def _supervisor(user: Principal | None) -> Principal:
    return need_role(user, sup.SUPERVISING, "supervisors and administrators only")


def _org_param(request: Request) -> int | None:
    value = request.query_params.get("org", "")
    return int(value) if value.isdigit() and 0 < int(value) < 2**31 else None


def _holder_id(holder: str) -> int | None:
    if holder == UNASSIGNED:
        return None
    if not holder.isdigit() or not 0 < int(holder) < 2**31:
        raise NotFound("no such user")
    return int(holder)


# -- workload --------------------------------------------------------------------------------------


@router.get("/supervise/workload", response_class=HTMLResponse)
def workload_page(request: Request, session: SessionDep, user: WebUser) -> Response:
    """Open, overdue and urgent cases per handler of the organisation, and the unassigned ones."""
    if user is None:
        return RedirectResponse("/", status_code=303)
    user = _supervisor(user)
    try:
        found = sup.workload(session, user=user, org_id=_org_param(request))
    except NotFound:
        return page(request, "error.html", 404, message="No such organisation.")
    orgs = (
        list(session.exec(select(Organisation).order_by(col(Organisation.slug))).all()) if user.org_id is None else []
    )
    return page(request, "workload.html", work=found, orgs=orgs)


def _holder_page(
    request: Request,
    session: Session,
    user: Principal,
    holder: str,
    *,
    result: sup.BulkResult | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    try:
        org = sup.workload_org(session, user, _org_param(request))
        person = sup.holder(session, user=user, org=org, holder_id=_holder_id(holder))
    except NotFound:
        return page(request, "error.html", 404, message="No such user.")
    cases = sup.open_cases(session, org=org, holder_id=person.id if person else None)
    return page(
        request,
        "workload_cases.html",
        status_code,
        org=org,
        person=person,
        holder=holder,
        cases=cases,
        members=sup.members(session, require_id(org)),
        result=result,
        error=error,
        now=sup.clock.now(),
        org_query=f"?org={org.id}" if user.org_id is None else "",
    )


@router.get("/supervise/workload/{holder}", response_class=HTMLResponse)
def holder_page(
    holder: Annotated[str, Path(max_length=12)], request: Request, session: SessionDep, user: WebUser
) -> Response:
    """One handler's open cases (or the unassigned ones), with reassignment and bulk actions."""
    if user is None:
        return RedirectResponse("/", status_code=303)
    return _holder_page(request, session, _supervisor(user), holder)


@router.post("/supervise/workload/{holder}/bulk", response_class=HTMLResponse)
def bulk_action(
    holder: Annotated[str, Path(max_length=12)],
    request: Request,
    session: SessionDep,
    user: WebUser,
    action: Annotated[str, Form(max_length=16)],
    case: Annotated[list[int], Form()] = [],  # noqa: B006
    user_id: Annotated[str, Form(max_length=12)] = "",
    into: Annotated[str, Form(max_length=12)] = "",
    tag: Annotated[str, Form(max_length=200)] = "",
    csrf_token: Csrf = "",
) -> Response:
    user = _supervisor(user)
    check_csrf(request, csrf_token)
    return attempt(
        session,
        lambda: sup.bulk(
            session,
            user=user,
            report_ids=case,
            action=action,
            assignee_id=int(user_id) if user_id.isdigit() else None,
            into_id=int(into.lstrip("#")) if into.lstrip("#").isdigit() else None,
            tag=tag,
        ),
        done=lambda result: _holder_page(request, session, user, holder, result=result),
        failed=lambda exc, code: _holder_page(request, session, user, holder, error=str(exc), status_code=code),
    )


@router.post("/supervise/workload/{holder}/reassign-all", response_class=HTMLResponse)
def reassign_all(
    holder: Annotated[str, Path(max_length=12)],
    request: Request,
    session: SessionDep,
    user: WebUser,
    user_id: Annotated[int, Form(ge=1, le=2**31 - 1)],
    csrf_token: Csrf = "",
) -> Response:
    user = _supervisor(user)
    check_csrf(request, csrf_token)

    def move() -> sup.BulkResult:
        org = sup.workload_org(session, user, _org_param(request))
        person = sup.holder(session, user=user, org=org, holder_id=_holder_id(holder))
        return sup.reassign_all(session, user=user, org=org, from_id=person.id if person else None, to_id=user_id)

    return attempt(
        session,
        move,
        done=lambda result: _holder_page(request, session, user, holder, result=result),
        failed=lambda exc, code: _holder_page(request, session, user, holder, error=str(exc), status_code=code),
    )


# -- several cases at once from the main queue (any signed-in user: each case the one-case rules) ----------


def _back(query: str) -> str:
    """The queue view the bulk form was sent from: its filters and page position only."""
    kept = [
        (k, v)
        for k, v in parse_qsl(query or "", keep_blank_values=False)
        if (k in tagging.FILTER_KEYS or k == "cursor") and len(v) <= 200 and "\x00" not in v
    ]
    return "/?" + urlencode(kept) if kept else "/"


@router.post("/queue/bulk", response_class=HTMLResponse)
def queue_bulk(
    request: Request,
    session: SessionDep,
    user: WebUser,
    action: Annotated[str, Form(max_length=16)] = "",
    case: Annotated[list[int], Form()] = [],  # noqa: B006
    user_id: Annotated[str, Form(max_length=12)] = "",
    into: Annotated[str, Form(max_length=12)] = "",
    tag: Annotated[str, Form(max_length=200)] = "",
    back: Annotated[str, Form(max_length=1000)] = "",
    csrf_token: Csrf = "",
) -> Response:
    """The queue's bulk form: assign, put back, tag or close as duplicate the chosen cases, each through
    the one-case action; the answer says how many were done and why the others were skipped."""
    user = need_user(user)
    check_csrf(request, csrf_token)
    chosen = action if action in sup.BULK_ACTIONS else ""

    def show(outcome: sup.BulkResult) -> Response:
        return page(request, "bulk_result.html", result=outcome, lines=sup.summary(outcome, chosen), back=_back(back))

    return attempt(
        session,
        lambda: sup.bulk(
            session,
            user=user,
            report_ids=case,
            action=action,
            assignee_id=int(user_id) if user_id.isdigit() else None,
            into_id=int(into.lstrip("#")) if into.lstrip("#").isdigit() else None,
            tag=tag,
        ),
        done=show,
        failed=lambda exc, code: page(request, "bulk_result.html", code, error=str(exc), back=_back(back)),
    )


@router.get("/queue/bulk")
def after_queue_bulk() -> Response:
    """Reloading the result page (a GET of the form's address) goes back to the queue."""
    return RedirectResponse("/", status_code=303)


# -- grievance bodies ------------------------------------------------------------------------------


def _reader(user: Principal | None) -> Principal:
    user = _supervisor(user)
    if not bodies_admin.can_read(user):
        raise HTTPException(403, "supervisors and administrators only")
    return user


def _creator(user: Principal | None) -> Principal:
    user = _supervisor(user)
    if not bodies_admin.can_create(user):
        raise HTTPException(403, "grievance bodies are created by supervisors and administrators")
    return user


def _changer(user: Principal | None, session: Session | None = None, slug: str | None = None) -> Principal:
    """The user, if they may change the body `slug` (its organisation's supervisors and administrators,
    a platform administrator); 403 otherwise. A body that does not exist is left to the caller (404)."""
    user = _supervisor(user)
    body = (
        session.exec(select(GrievanceBody).where(GrievanceBody.slug == slug)).first()
        if session is not None and slug
        else None
    )
    if (body is not None or slug is None) and not bodies_admin.can_change(user, body):
        raise HTTPException(
            403,
            "this grievance body is shared or another organisation's: "
            "its organisation or a platform administrator changes it",
        )
    return user


@router.get("/admin/bodies", response_class=HTMLResponse)
def bodies_page(request: Request, session: SessionDep, user: WebUser) -> Response:
    if user is None:
        return RedirectResponse("/", status_code=303)
    user = _reader(user)
    bodies = list_bodies(session)
    owners = {o.id: o.name for o in session.exec(select(Organisation)).all()}
    return page(
        request,
        "bodies.html",
        bodies=bodies,
        can_create=bodies_admin.can_create(user),
        editable={b.id for b in bodies if bodies_admin.can_change(user, b)},
        owners=owners,
        hours={b.id: int(deadline_for(b).total_seconds() // 3600) for b in bodies},
        calendar_org=next((o for o in session.exec(select(Organisation)).all() if o.id == user.org_id), None)
        if user.role == "admin"
        else None,
        done=request.query_params.get("done"),
    )


def _form_page(
    request: Request,
    session: Session,
    body: GrievanceBody | None,
    *,
    form: dict[str, Any] | None = None,
    error: str | None = None,
    token: str | None = None,
    status_code: int = 200,
) -> Response:
    if form is None:
        form = {
            "slug": "",
            "name_en": "",
            "name_km": "",
            "level": "facility",
            "language": "km",
            "network": "",
            "categories": [],
            "deadline_hours": "",
            "email": "",
            "webhook_url": "",
            "places": "",
            "deadline_counting": "calendar",
            "time_zone": "",
            "working_hours": "",
            "holiday_country": "",
        }
        if body is not None:
            form = {
                "slug": body.slug,
                "name_en": body.name_en,
                "name_km": body.name_km,
                "level": body.level,
                "language": body.language,
                "network": body.network or "",
                "categories": list(body.categories or []),
                "deadline_hours": body.deadline_hours or "",
                "email": body.email or "",
                "webhook_url": body.webhook_url or "",
                "places": " ".join(jurisdiction_codes(session, body)),
                "deadline_counting": body.deadline_counting,
                "time_zone": body.time_zone or "",
                "working_hours": body.working_hours or "",
                "holiday_country": body.holiday_country or "",
            }
    user = request.state.user
    levels = (
        LEVELS
        if bodies_admin.is_platform_admin(user)
        else tuple(v for v in LEVELS if v not in bodies_admin.SHARED_LEVELS)
    )
    return page(
        request,
        "body_form.html",
        status_code,
        body=body,
        form=form,
        error=error,
        token=token,
        levels=levels,
        languages=LANGUAGES,
        categories=CATEGORIES,
        countries=workingtime.COUNTRIES,
        zone_names=zones.COMMON,
    )


# -- an organisation's working calendar ----------------------------------------------------------------


def _calendar_user(user: Principal | None, session: Session, slug: str) -> tuple[Principal, Organisation | None]:
    """An organisation's administrator (their own) or a platform administrator (any); 403 otherwise."""
    user = need_role(user, ("admin",), "administrators only")
    org = session.exec(select(Organisation).where(Organisation.slug == slug)).first()
    if not (bodies_admin.is_platform_admin(user) or (org is not None and org.id == user.org_id)):
        raise HTTPException(403, "an organisation's administrators or a platform administrator change its calendar")
    return user, org


def _calendar_page(
    request: Request,
    org: Organisation,
    *,
    form: dict[str, str] | None = None,
    error: str | None = None,
    done: bool = False,
    status_code: int = 200,
) -> Response:
    form = form or {"working_hours": org.working_hours or "", "holiday_country": org.holiday_country or ""}
    return page(
        request,
        "org_calendar.html",
        status_code,
        org=org,
        form=form,
        error=error,
        done=done,
        countries=workingtime.COUNTRIES,
        default_hours=workingtime.DEFAULT_HOURS,
    )


@router.get("/admin/organisations/{slug}/calendar", response_class=HTMLResponse)
def org_calendar(slug: Slug, request: Request, session: SessionDep, user: WebUser) -> Response:
    """The organisation's working hours and public holidays (bodies counting working time fall back to them)."""
    if user is None:
        return RedirectResponse("/", status_code=303)
    _user, org = _calendar_user(user, session, slug)
    if org is None:
        return page(request, "error.html", 404, message="No such organisation.")
    return _calendar_page(request, org, done=request.query_params.get("done") == "1")


@router.post("/admin/organisations/{slug}/calendar", response_class=HTMLResponse)
def org_calendar_save(
    slug: Slug,
    request: Request,
    session: SessionDep,
    user: WebUser,
    working_hours: Annotated[str, Form(max_length=200)] = "",
    holiday_country: Annotated[str, Form(max_length=8)] = "",
    csrf_token: Csrf = "",
) -> Response:
    user, org = _calendar_user(user, session, slug)
    check_csrf(request, csrf_token)
    if org is None:
        return page(request, "error.html", 404, message="No such organisation.")

    def save() -> Organisation:
        saved, changed = set_org_calendar(
            session, slug=slug, working_hours=working_hours.strip() or None, holiday_country=holiday_country or None
        )
        if changed:
            record(
                session,
                actor=user.email,
                action="org.calendar",
                object_type="organisation",
                object_id=saved.id,
                detail={"slug": saved.slug, "changed": changed},
            )
        return saved

    return attempt(
        session,
        save,
        done=lambda o: RedirectResponse(f"/admin/organisations/{o.slug}/calendar?done=1", status_code=303),
        failed=lambda exc, _code: _calendar_page(
            request,
            org,
            form={"working_hours": working_hours, "holiday_country": holiday_country},
            error=str(exc),
            status_code=422,
        ),
    )


@router.get("/admin/bodies/new", response_class=HTMLResponse)
def body_new(request: Request, session: SessionDep, user: WebUser) -> Response:
    if user is None:
        return RedirectResponse("/", status_code=303)
    _creator(user)
    return _form_page(request, session, None)


@router.get("/admin/bodies/{slug}", response_class=HTMLResponse)
def body_edit(slug: Slug, request: Request, session: SessionDep, user: WebUser) -> Response:
    if user is None:
        return RedirectResponse("/", status_code=303)
    _changer(user, session, slug)
    try:
        body = get_body(session, slug)
    except NotFound:
        return page(request, "error.html", 404, message="No such grievance body.")
    return _form_page(request, session, body)


def _save(
    request: Request, session: Session, user: Principal, *, create: bool, slug: str, fields: dict[str, Any]
) -> Response:
    raw = {**fields, "slug": slug}
    hours = str(fields["deadline_hours"]).strip()

    def refused(exc: Exception, _code: int) -> Response:
        existing = None if create else session.get(GrievanceBody, _body_id(session, slug))
        raw.pop("sms", None)  # never echoed back into the page
        return _form_page(request, session, existing, form=raw, error=str(exc), status_code=422)

    def save() -> GrievanceBody:
        if hours and not hours.isdigit():
            raise bodies_admin.InvalidInput("the deadline is a whole number of hours")
        form = bodies_admin.BodyForm(
            slug=slug.strip(),
            name_en=fields["name_en"],
            name_km=fields["name_km"],
            level=fields["level"],
            language=fields["language"],
            network=fields["network"].strip() or None,
            categories=tuple(fields["categories"]),
            deadline_hours=int(hours) if hours else None,
            email=fields["email"].strip() or None,
            webhook_url=fields["webhook_url"].strip() or None,
            sms=fields["sms"].replace(" ", "").strip() or None,
            clear_sms=fields["clear_sms"],
            places=tuple(p for p in fields["places"].replace(",", " ").split() if p),
            deadline_counting=fields["deadline_counting"],
            time_zone=fields["time_zone"].strip() or None,
            working_hours=fields["working_hours"].strip() or None,
            holiday_country=fields["holiday_country"] or None,
        )
        return bodies_admin.save_body(session, user=user, form=form, create=create)

    return attempt(
        session,
        save,
        failed=refused,
        done=lambda body: RedirectResponse(f"/admin/bodies?done={body.slug}", status_code=303),
    )


def _body_id(session: Session, slug: str) -> int | None:
    try:
        return get_body(session, slug).id
    except NotFound:
        return None


def _body_fields(
    name_en: str,
    name_km: str,
    level: str,
    language: str,
    network: str,
    categories: list[str],
    deadline_hours: str,
    email: str,
    webhook_url: str,
    sms: str,
    clear_sms: str,
    places: str,
    clock: tuple[str, str, str, str] = ("calendar", "", "", ""),
) -> dict:
    return {
        "name_en": name_en,
        "name_km": name_km,
        "level": level,
        "language": language,
        "network": network,
        "categories": categories,
        "deadline_hours": deadline_hours,
        "email": email,
        "webhook_url": webhook_url,
        "sms": sms,
        "clear_sms": clear_sms == "1",
        "places": places,
        "deadline_counting": clock[0],
        "time_zone": clock[1],
        "working_hours": clock[2],
        "holiday_country": clock[3],
    }


Text = Annotated[str, Form(max_length=500)]


@router.post("/admin/bodies/new", response_class=HTMLResponse)
def body_create(
    request: Request,
    session: SessionDep,
    user: WebUser,
    slug: Annotated[str, Form(max_length=64)],
    name_en: Text,
    level: Annotated[str, Form(max_length=24)],
    name_km: Text = "",
    language: Annotated[str, Form(max_length=4)] = "en",
    network: Text = "",
    categories: Annotated[list[str], Form()] = [],
    deadline_hours: Text = "",  # noqa: B006
    email: Text = "",
    webhook_url: Text = "",
    sms: Text = "",
    clear_sms: Text = "",
    places: Annotated[str, Form(max_length=4000)] = "",
    deadline_counting: Annotated[str, Form(max_length=16)] = "calendar",
    time_zone: Annotated[str, Form(max_length=64)] = "",
    working_hours: Annotated[str, Form(max_length=200)] = "",
    holiday_country: Annotated[str, Form(max_length=8)] = "",
    csrf_token: Csrf = "",
) -> Response:
    user = _creator(user)
    check_csrf(request, csrf_token)
    return _save(
        request,
        session,
        user,
        create=True,
        slug=slug,
        fields=_body_fields(
            name_en,
            name_km,
            level,
            language,
            network,
            categories,
            deadline_hours,
            email,
            webhook_url,
            sms,
            clear_sms,
            places,
            (deadline_counting, time_zone, working_hours, holiday_country),
        ),
    )


@router.post("/admin/bodies/{slug}", response_class=HTMLResponse)
def body_update(
    slug: Slug,
    request: Request,
    session: SessionDep,
    user: WebUser,
    name_en: Text,
    level: Annotated[str, Form(max_length=24)],
    name_km: Text = "",
    language: Annotated[str, Form(max_length=4)] = "en",
    network: Text = "",
    categories: Annotated[list[str], Form()] = [],
    deadline_hours: Text = "",  # noqa: B006
    email: Text = "",
    webhook_url: Text = "",
    sms: Text = "",
    clear_sms: Text = "",
    places: Annotated[str, Form(max_length=4000)] = "",
    deadline_counting: Annotated[str, Form(max_length=16)] = "calendar",
    time_zone: Annotated[str, Form(max_length=64)] = "",
    working_hours: Annotated[str, Form(max_length=200)] = "",
    holiday_country: Annotated[str, Form(max_length=8)] = "",
    csrf_token: Csrf = "",
) -> Response:
    user = _changer(user, session, slug)
    check_csrf(request, csrf_token)
    if _body_id(session, slug) is None:
        return page(request, "error.html", 404, message="No such grievance body.")
    return _save(
        request,
        session,
        user,
        create=False,
        slug=slug,
        fields=_body_fields(
            name_en,
            name_km,
            level,
            language,
            network,
            categories,
            deadline_hours,
            email,
            webhook_url,
            sms,
            clear_sms,
            places,
            (deadline_counting, time_zone, working_hours, holiday_country),
        ),
    )


def _body_action(
    request: Request, session: Session, user: Principal | None, slug: str, csrf_token: str, fn: Any
) -> Response:
    user = _changer(user, session, slug)
    check_csrf(request, csrf_token)

    def refused(exc: Exception, code: int) -> Response:
        if code == 404:
            return page(request, "error.html", 404, message="No such grievance body.")
        return _form_page(request, session, get_body(session, slug), error=str(exc), status_code=409)

    def done(outcome: Any) -> Response:
        if isinstance(outcome, str):  # a new token: shown once, on this page only
            return _form_page(request, session, get_body(session, slug), token=outcome)
        return RedirectResponse(f"/admin/bodies?done={slug}", status_code=303)

    return attempt(session, lambda: fn(user), done=done, failed=refused)


@router.post("/admin/bodies/{slug}/active")
def body_active(
    slug: Slug,
    request: Request,
    session: SessionDep,
    user: WebUser,
    active: Annotated[str, Form(max_length=1)],
    csrf_token: Csrf = "",
) -> Response:
    return _body_action(
        request,
        session,
        user,
        slug,
        csrf_token,
        lambda u: bodies_admin.set_active(session, user=u, slug=slug, active=active == "1"),
    )


@router.post("/admin/bodies/{slug}/token", response_class=HTMLResponse)
def body_token(slug: Slug, request: Request, session: SessionDep, user: WebUser, csrf_token: Csrf = "") -> Response:
    return _body_action(
        request, session, user, slug, csrf_token, lambda u: bodies_admin.issue_token(session, user=u, slug=slug)
    )


@router.post("/admin/bodies/{slug}/token/revoke")
def body_token_revoke(
    slug: Slug, request: Request, session: SessionDep, user: WebUser, csrf_token: Csrf = ""
) -> Response:
    return _body_action(
        request, session, user, slug, csrf_token, lambda u: bodies_admin.revoke_token(session, user=u, slug=slug)
    )


# A page shown after a POST (a bulk action's result, a new token) has the POST's address; reloading it,
# or switching the language there, asks for it with GET: back to the page it came from.
@router.get("/supervise/workload/{holder}/bulk")
@router.get("/supervise/workload/{holder}/reassign-all")
def after_bulk(holder: Annotated[str, Path(max_length=12)], request: Request) -> Response:
    query = f"?{request.url.query}" if request.url.query else ""
    return RedirectResponse(f"/supervise/workload/{holder}{query}", status_code=303)


@router.get("/admin/bodies/{slug}/token")
@router.get("/admin/bodies/{slug}/token/revoke")
@router.get("/admin/bodies/{slug}/active")
def after_body_action(slug: Slug) -> Response:
    return RedirectResponse(f"/admin/bodies/{slug}", status_code=303)


# -- tags on a case (anyone who may see the case) and the cases of a tag -------------------------------

CaseId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("/tags", response_class=HTMLResponse)
def tags_page(request: Request, session: SessionDep, user: WebUser) -> Response:
    """The organisation's tags (with their open cases), or the cases of one tag (`?tag=`)."""
    if user is None:
        return RedirectResponse("/", status_code=303)
    chosen = " ".join((request.query_params.get("tag") or "").replace("\x00", "").split())[:40] or None
    cases = tagging.tagged_cases(session, user=user, tag=chosen) if chosen else []
    return page(
        request,
        "tags.html",
        tags=tagging.org_tags(session, user=user),
        chosen=chosen,
        cases=cases,
        open_statuses=sup.OPEN_STATUSES,
    )


# -- saved views of the queue ---------------------------------------------------------------------------


@router.get("/filters", response_class=HTMLResponse)
def filters_page(request: Request, session: SessionDep, user: WebUser) -> Response:
    """Saved views: the user's own and those shared in the organisation; `?save=<the queue's filters>` offers to keep one."""
    if user is None:
        return RedirectResponse("/", status_code=303)
    return _filters_page(request, session, user, save=request.query_params.get("save", "")[:600])


def _filters_page(
    request: Request,
    session: Session,
    user: Principal,
    *,
    save: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    return page(
        request,
        "filters.html",
        status_code,
        views=tagging.visible_filters(session, user=user),
        save=save,
        error=error,
        can_share=user.role in sup.SUPERVISING and user.org_id is not None,
        done=request.query_params.get("done"),
    )


@router.post("/filters", response_class=HTMLResponse)
def filter_save(
    request: Request,
    session: SessionDep,
    user: WebUser,
    name: Annotated[str, Form(max_length=200)],
    query: Annotated[str, Form(max_length=1000)],
    shared: Annotated[str, Form(max_length=1)] = "",
    csrf_token: Csrf = "",
) -> Response:
    user = need_user(user)
    check_csrf(request, csrf_token)
    return attempt(
        session,
        lambda: tagging.save_filter(session, user=user, name=name, query=query, shared=shared == "1"),
        done=lambda _: RedirectResponse("/filters?done=1", status_code=303),
        failed=lambda exc, code: _filters_page(request, session, user, save=query, error=str(exc), status_code=code),
    )


@router.post("/filters/{filter_id}/delete")
def filter_delete(
    filter_id: CaseId, request: Request, session: SessionDep, user: WebUser, csrf_token: Csrf = ""
) -> Response:
    user = need_user(user)
    check_csrf(request, csrf_token)
    return attempt(
        session,
        lambda: tagging.delete_filter(session, user=user, filter_id=filter_id),
        done=lambda _: RedirectResponse("/filters?done=1", status_code=303),
        failed=lambda exc, code: _filters_page(request, session, user, error=str(exc), status_code=code),
        default_status=403,
    )


# -- the organisation's reply templates ----------------------------------------------------------------


def _replies_page(
    request: Request,
    session: Session,
    user: Principal,
    *,
    form: dict[str, Any] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    if user.org_id is None:
        return page(
            request,
            "error.html",
            403,
            message=("an organisation's supervisors and administrators write its reply templates"),
        )
    rows = replies.org_templates(session, user.org_id)
    if form is None:
        edit = request.query_params.get("edit", "")
        chosen = next((t for t in rows if edit.isdigit() and t.id == int(edit)), None)
        form = {
            "id": chosen.id if chosen else "",
            "name": chosen.name if chosen else "",
            **{f"text_{lang}": getattr(chosen, f"text_{lang}") if chosen else "" for lang in replies.LANGS},
        }
    form_counts = {lang: segments.count(form[f"text_{lang}"]) for lang in replies.LANGS}
    return page(
        request,
        "replies.html",
        status_code,
        rows=rows,
        counts={t.id: replies.counts(t) for t in rows},
        form=form,
        form_counts=form_counts,
        error=error,
        done=request.query_params.get("done"),
    )


@router.get("/supervise/replies", response_class=HTMLResponse)
def replies_page(request: Request, session: SessionDep, user: WebUser) -> Response:
    if user is None:
        return RedirectResponse("/", status_code=303)
    return _replies_page(request, session, _supervisor(user))


ReplyText = Annotated[str, Form(max_length=2000)]


@router.post("/supervise/replies", response_class=HTMLResponse)
def reply_save(
    request: Request,
    session: SessionDep,
    user: WebUser,
    name: Annotated[str, Form(max_length=200)],
    text_en: ReplyText = "",
    text_km: ReplyText = "",
    text_pt: ReplyText = "",
    template_id: Annotated[str, Form(max_length=12)] = "",
    csrf_token: Csrf = "",
) -> Response:
    user = _supervisor(user)
    check_csrf(request, csrf_token)
    texts = {"km": text_km, "en": text_en, "pt": text_pt}
    form = {"id": template_id, "name": name, **{f"text_{k}": v for k, v in texts.items()}}
    return attempt(
        session,
        lambda: replies.save(
            session, user=user, name=name, texts=texts, template_id=int(template_id) if template_id.isdigit() else None
        ),
        done=lambda _: RedirectResponse("/supervise/replies?done=1", status_code=303),
        failed=lambda exc, code: _replies_page(request, session, user, form=form, error=str(exc), status_code=code),
    )


@router.post("/supervise/replies/{template_id}/deactivate")
def reply_deactivate(
    template_id: CaseId, request: Request, session: SessionDep, user: WebUser, csrf_token: Csrf = ""
) -> Response:
    user = _supervisor(user)
    check_csrf(request, csrf_token)
    return attempt(
        session,
        lambda: replies.deactivate(session, user=user, template_id=template_id),
        done=lambda _: RedirectResponse("/supervise/replies?done=1", status_code=303),
        failed=lambda exc, code: _replies_page(request, session, user, error=str(exc), status_code=code),
        default_status=403,
    )


@router.post("/supervise/replies/segments", response_class=HTMLResponse)
def reply_segments(
    request: Request,
    user: WebUser,
    lang: Annotated[str, Form(max_length=2)] = "en",
    text_km: ReplyText = "",
    text_en: ReplyText = "",
    text_pt: ReplyText = "",
    csrf_token: Csrf = "",
) -> Response:
    """The live SMS length under one language's text box (changes nothing)."""
    _supervisor(user)
    check_csrf(request, csrf_token)
    lang = lang if lang in replies.LANGS else "en"
    text = {"km": text_km, "en": text_en, "pt": text_pt}[lang]
    return page(request, "_reply_segments.html", code=lang, count=segments.count(text), chars=len(text))
