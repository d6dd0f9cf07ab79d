"""Routing in the web app: platform administrators list, edit and retire the rules; supervisors
ask the simulator where a case would go.

Every save is a new version (the history is kept and shown); the seed YAML stays the
starting point. Only platform administrators (role admin, no organisation) may edit:
rules decide which organisation sees which cases, across organisations.
"""

from __future__ import annotations

from typing import Annotated

import yaml
from fastapi import APIRouter, Form, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from service.auth.principal import Principal
from service.audit.service import record
from service.auth.deps import SessionDep, WebUser
from service.kit.errors import DomainError
from service.orgs.models import SUPERVISING
from service.reports.models import CATEGORIES, POPULATIONS, URGENCIES
from service.routing import service as routing
from service.kit.render import csrf_valid, page

router = APIRouter(include_in_schema=False)
RuleKey = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")]


def _platform_admin(user: Principal | None) -> Principal:
    if user is None:
        raise HTTPException(401, "sign in first")
    if user.role != "admin" or user.org_id is not None:
        raise HTTPException(403, "only platform administrators edit routing rules")
    return user


def _words(text: str) -> list[str] | None:
    items = [w.strip() for w in text.replace(";", ",").split(",") if w.strip()]
    return items or None


def _form(rule: routing.RoutingRule | None) -> dict[str, str]:
    if rule is None:
        return {
            "key": "",
            "name": "",
            "priority": "0",
            "categories": "",
            "urgencies": "",
            "populations": "",
            "place_code": "",
            "org_slug": "",
            "ladder": "",
            "auto_escalate": "",
            "active": "1",
        }
    return {
        "key": rule.rule_key,
        "name": rule.name,
        "priority": str(rule.priority),
        "categories": ", ".join(rule.categories or []),
        "urgencies": ", ".join(rule.urgencies or []),
        "populations": ", ".join(rule.populations or []),
        "place_code": rule.place_code or "",
        "org_slug": rule.org_slug or "",
        "ladder": yaml.safe_dump(rule.ladder or [], allow_unicode=True, default_flow_style=False, sort_keys=False),
        "auto_escalate": "1" if rule.auto_escalate else "",
        "active": "1" if rule.active else "",
    }


@router.get("/admin/rules")
def rules_page(request: Request, session: SessionDep, user: WebUser) -> Response:
    _platform_admin(user)
    rules = routing.current_rules(session)
    return page(
        request,
        "rules.html",
        rules=rules,
        forms={r.rule_key: _form(r) for r in rules},
        new=_form(None),
        error=None,
        saved=request.query_params.get("saved"),
    )


@router.get("/admin/rules/{key}/history")
def rule_history_page(key: RuleKey, request: Request, session: SessionDep, user: WebUser) -> Response:
    _platform_admin(user)
    versions = routing.rule_history(session, key)
    if not versions:
        raise HTTPException(404, "no such rule")
    return page(request, "rule_history.html", key=key, versions=versions)


@router.post("/admin/rules")
def save_rule(
    request: Request,
    session: SessionDep,
    user: WebUser,
    key: Annotated[str, Form(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")],
    name: Annotated[str, Form(min_length=1, max_length=200)],
    priority: Annotated[int, Form(ge=-1000, le=1000)] = 0,
    categories: Annotated[str, Form(max_length=400)] = "",
    urgencies: Annotated[str, Form(max_length=100)] = "",
    populations: Annotated[str, Form(max_length=400)] = "",
    place_code: Annotated[str, Form(max_length=64)] = "",
    org_slug: Annotated[str, Form(max_length=64)] = "",
    ladder: Annotated[str, Form(max_length=4000)] = "",
    auto_escalate: Annotated[str, Form(max_length=2)] = "",
    active: Annotated[str, Form(max_length=2)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    admin = _platform_admin(user)
    if not csrf_valid(request, csrf_token):
        raise HTTPException(403, "the form expired or did not come from this site; reload the page")
    error = None
    try:
        steps = yaml.safe_load(ladder) if ladder.strip() else []
        if not isinstance(steps, list) or not all(isinstance(s, dict) for s in steps):
            raise DomainError("the ladder must be a list of steps, e.g. '- level: hcmc' or '- body: nacd'")
        before = routing.current_rule(session, key)
        rule = routing.save_rule(
            session,
            key=key,
            name=name.strip(),
            actor=f"user:{admin.id}",
            priority=priority,
            categories=_words(categories),
            urgencies=_words(urgencies),
            populations=_words(populations),
            place_code=place_code.strip() or None,
            org_slug=org_slug.strip() or None,
            ladder=[{str(k): str(v) for k, v in step.items()} for step in steps],
            auto_escalate=bool(auto_escalate),
            active=bool(active),
        )
    except (DomainError, yaml.YAMLError) as exc:
        session.rollback()
        error = str(exc)[:300] if isinstance(exc, DomainError) else "the ladder is not valid YAML"
    if error is not None:
        rules = routing.current_rules(session)
        submitted = {
            "key": key,
            "name": name,
            "priority": str(priority),
            "categories": categories,
            "urgencies": urgencies,
            "populations": populations,
            "place_code": place_code,
            "org_slug": org_slug,
            "ladder": ladder,
            "auto_escalate": auto_escalate,
            "active": active,
        }
        forms = {r.rule_key: _form(r) for r in rules}
        existing = key in forms
        if existing:
            forms[key] = submitted
        return page(
            request,
            "rules.html",
            status_code=400,
            rules=rules,
            forms=forms,
            new=_form(None) if existing else submitted,
            error=error,
            saved=None,
        )
    record(
        session,
        actor=f"user:{admin.id}",
        action="routing.save",
        object_type="routing_rule",
        object_id=key,
        detail={"before": before.version if before else None, "after": rule.version},
    )
    session.commit()
    return RedirectResponse(f"/admin/rules?saved={key}", status_code=303)


@router.get("/admin/routing", response_class=HTMLResponse)
def routing_simulator(request: Request, session: SessionDep, user: WebUser) -> Response:
    """ "Where would this case go?": the rule, its organisation and the resolved ladder (changes nothing)."""
    if user is None:
        return RedirectResponse("/", status_code=303)
    if user.role not in SUPERVISING:
        raise HTTPException(403, "supervisors and administrators only")
    qp = {k: v.replace("\x00", "").strip()[:120] for k, v in request.query_params.items()}
    asked = {
        "category": qp.get("category") if qp.get("category") in CATEGORIES else None,
        "urgency": qp.get("urgency") if qp.get("urgency") in URGENCIES else None,
        "population": qp.get("population") if qp.get("population") in POPULATIONS else None,
        "place": qp.get("place") or None,
    }
    result, error = None, None
    if qp.get("go"):
        try:
            result = routing.simulate(session, **asked)
        except DomainError as exc:
            error = str(exc)
    return page(
        request,
        "routing.html",
        422 if error else 200,
        asked=asked,
        result=result,
        error=error,
        categories=CATEGORIES,
        urgencies=URGENCIES,
        populations=POPULATIONS,
    )
