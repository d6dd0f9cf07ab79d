"""Routing: which CSO handles a case and which ladder of bodies it climbs. Plain functions; callers commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, NamedTuple

import yaml
from sqlalchemy import exists, or_
from sqlmodel import Session, col, select

from service.bodies.models import LEVELS, GrievanceBody
from service.bodies.service import ancestors, resolve_level
from service.kit.clock import now
from service.kit.errors import InvalidInput, NotFound
from service.kit.fastsql import FastQuery, session_connection
from service.kit.models import require_id
from service.intake.models import Conversation
from service.orgs.models import Organisation, User
from service.places.models import Place
from service.places.service import match_place
from service.reports.models import CATEGORIES, POPULATIONS, URGENCIES, Report, ReportEvent
from service.reports.service import add_event
from service.routing.models import ReportRoute, RoutingRule
from service.triage.cluster import assign_cluster

DATA_FILE = Path(__file__).parent / "data" / "rules.yaml"
_CONTENT = (
    "name",
    "priority",
    "categories",
    "urgencies",
    "populations",
    "place_code",
    "org_slug",
    "ladder",
    "auto_escalate",
    "active",
)


# -- rules: versioned edits ----------------------------------------------------------------------
def _check(session: Session, fields: dict[str, Any]) -> None:
    for name, allowed in (("categories", CATEGORIES), ("urgencies", URGENCIES), ("populations", POPULATIONS)):
        bad = [v for v in fields[name] if v not in allowed]
        if bad:
            raise InvalidInput(f"unknown {name}: {', '.join(map(str, bad))}")
    if fields["place_code"] and session.exec(select(Place).where(Place.code == fields["place_code"])).first() is None:
        raise InvalidInput(f"unknown place code {fields['place_code']!r}")
    for rung in fields["ladder"]:
        if not isinstance(rung, dict) or not ({"body"} <= rung.keys() or {"level"} <= rung.keys()):
            raise InvalidInput("each ladder rung is {body: slug} or {level: level, network: optional}")
        if (
            "body" in rung
            and session.exec(select(GrievanceBody).where(GrievanceBody.slug == rung["body"])).first() is None
        ):
            raise InvalidInput(f"unknown body {rung['body']!r}")
        if "level" in rung and rung["level"] not in LEVELS:
            raise InvalidInput(f"unknown level {rung['level']!r}")


def save_rule(
    session: Session,
    *,
    key: str,
    name: str,
    actor: str,
    priority: int = 0,
    categories: list[str] | None = None,
    urgencies: list[str] | None = None,
    populations: list[str] | None = None,
    place_code: str | None = None,
    org_slug: str | None = None,
    ladder: list[dict[str, str]] | None = None,
    auto_escalate: bool = False,
    active: bool = True,
) -> RoutingRule:
    """Create a rule or a new version of it (the previous stays in the history). No change, no new version."""
    if not key or len(key) > 64:
        raise InvalidInput("rule key is required (max 64)")
    fields: dict[str, Any] = {
        "name": name,
        "priority": int(priority),
        "categories": list(categories or []),
        "urgencies": list(urgencies or []),
        "populations": list(populations or []),
        "place_code": place_code or None,
        "org_slug": org_slug or None,
        "ladder": [dict(r) if isinstance(r, dict) else r for r in ladder or []],
        "auto_escalate": bool(auto_escalate),
        "active": bool(active),
    }
    _check(session, fields)
    current = current_rule(session, key)
    if current is not None and all(getattr(current, f) == fields[f] for f in _CONTENT):
        return current
    version = 1
    if current is not None:
        current.current = False
        session.add(current)
        session.flush()
        version = current.version + 1
    rule = RoutingRule(rule_key=key, version=version, current=True, created_by=actor, **fields)
    session.add(rule)
    session.flush()
    return rule


def retire_rule(session: Session, *, key: str, actor: str) -> RoutingRule:
    """Switch a rule off (as a new, inactive version)."""
    rule = current_rule(session, key)
    if rule is None:
        raise NotFound(f"no rule {key!r}")
    fields = {f: getattr(rule, f) for f in _CONTENT if f != "active"}
    return save_rule(session, key=key, actor=actor, active=False, **fields)


def current_rule(session: Session, key: str) -> RoutingRule | None:
    return session.exec(select(RoutingRule).where(RoutingRule.rule_key == key, RoutingRule.current == True)).first()  # noqa: E712


def current_rules(session: Session) -> list[RoutingRule]:
    return list(
        session.exec(
            select(RoutingRule)
            .where(RoutingRule.current == True)  # noqa: E712
            .order_by(col(RoutingRule.priority).desc(), col(RoutingRule.rule_key))
        ).all()
    )


class RuleChoice(NamedTuple):
    """A rule a handler can route a case by (the case page's "Route by rule")."""

    rule_key: str
    name: str
    org_slug: str | None


# Asked on every case page: compiled once.
_CHOICES = FastQuery(
    select(RoutingRule.rule_key, RoutingRule.name, RoutingRule.org_slug)
    .where(RoutingRule.current == True, RoutingRule.active == True)  # noqa: E712
    .order_by(col(RoutingRule.priority).desc(), col(RoutingRule.rule_key)),
    RuleChoice,
)


def active_choices(session: Session) -> list[RuleChoice]:
    """The current version of each active rule, in `current_rules`' order."""
    return _CHOICES.all(session_connection(session), {})


def rule_history(session: Session, key: str) -> list[RoutingRule]:
    """Every version of a rule, oldest first."""
    return list(
        session.exec(select(RoutingRule).where(RoutingRule.rule_key == key).order_by(col(RoutingRule.version))).all()
    )


def load_rules(session: Session, path: Path | None = None, *, actor: str = "seed") -> int:
    """Load the YAML rules (idempotent: an unchanged rule gets no new version)."""
    data = yaml.safe_load((path or DATA_FILE).read_text(encoding="utf-8"))["rules"]
    for item in data:
        save_rule(
            session,
            key=item["key"],
            name=item["name"],
            actor=actor,
            priority=item.get("priority", 0),
            categories=item.get("categories"),
            urgencies=item.get("urgencies"),
            populations=item.get("populations"),
            place_code=item.get("place"),
            org_slug=item.get("org"),
            ladder=item.get("ladder"),
            auto_escalate=item.get("auto_escalate", False),
        )
    return len(data)


# -- matching --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rung:
    index: int
    spec: dict[str, str]
    body: GrievanceBody | None


def match_rule(
    session: Session,
    *,
    category: str | None,
    place_id: int | None,
    urgency: str | None,
    population: str | None,
) -> RoutingRule | None:
    """The winning current, active rule for these facts: highest priority, then most specific."""
    chain = ancestors(session, place_id)
    depth = {p.code: len(chain) - i for i, p in enumerate(chain)}  # the place itself is deepest
    best: tuple[int, int, str] | None = None
    winner = None
    for rule in current_rules(session):
        if not rule.active:
            continue
        if rule.categories and category not in rule.categories:
            continue
        if rule.urgencies and urgency not in rule.urgencies:
            continue
        if rule.populations and population not in rule.populations:
            continue
        if rule.place_code and rule.place_code not in depth:
            continue
        specificity = (bool(rule.categories) + bool(rule.urgencies) + bool(rule.populations)) * 100
        specificity += depth.get(rule.place_code or "", 0)
        # Ties go to the alphabetically first key, so the result never depends on row order.
        score = (rule.priority, specificity, "".join(chr(0x10FFFF - ord(c)) for c in rule.rule_key))
        if best is None or score > best:
            best, winner = score, rule
    return winner


def resolve_ladder(session: Session, rule: RoutingRule, *, place_id: int | None, category: str | None) -> list[Rung]:
    """Each rung of a rule's ladder with the body it means for this place (None: no such body here)."""
    rungs = []
    for index, spec in enumerate(rule.ladder):
        if "body" in spec:
            body = session.exec(
                select(GrievanceBody).where(GrievanceBody.slug == spec["body"], GrievanceBody.active == True)
            ).first()  # noqa: E712
        else:
            body = resolve_level(
                session, level=spec["level"], place_id=place_id, category=category, network=spec.get("network")
            )
        rungs.append(Rung(index=index, spec=dict(spec), body=body))
    return rungs


def simulate(
    session: Session,
    *,
    category: str | None = None,
    place: str | None = None,
    urgency: str | None = None,
    population: str | None = None,
) -> dict[str, Any]:
    """ "Where would this case go?": the matched rule (and version), its CSO and the resolved ladder."""
    place_row = None
    if place:
        place_row = session.exec(select(Place).where(Place.code == place)).first()
        if place_row is None:
            place_row = match_place(session, place)
        if place_row is None:
            raise InvalidInput(f"no place matches {place!r}")
    rule = match_rule(
        session, category=category, place_id=place_row.id if place_row else None, urgency=urgency, population=population
    )
    result: dict[str, Any] = {
        "input": {
            "category": category,
            "place": place_row.code if place_row else None,
            "urgency": urgency,
            "population": population,
        },
        "rule": None,
        "org": None,
        "ladder": [],
    }
    if rule is None:
        return result
    result["rule"] = {
        "key": rule.rule_key,
        "version": rule.version,
        "name": rule.name,
        "priority": rule.priority,
        "auto_escalate": rule.auto_escalate,
    }
    result["org"] = rule.org_slug
    result["ladder"] = [
        {
            "rung": r.index,
            "spec": r.spec,
            "body": r.body.slug if r.body else None,
            "name": r.body.name_en if r.body else None,
            "level": r.body.level if r.body else r.spec.get("level"),
        }
        for r in resolve_ladder(session, rule, place_id=place_row.id if place_row else None, category=category)
    ]
    return result


# -- cases ---------------------------------------------------------------------------------------
def route_report(session: Session, report: Report, *, actor: str = "system") -> RoutingRule | None:
    """Route a case (the lead calls this after triage): sets report.org_id, remembers the rule version,
    records it on the timeline. Escalating at once when the rule says so is the caller's next step
    (service/flows/routing.py)."""
    rule = match_rule(
        session,
        category=report.category,
        place_id=report.place_id,
        urgency=report.urgency,
        population=report.population,
    )
    return set_route(session, report, rule=rule, actor=actor)


def set_route(session: Session, report: Report, *, rule: RoutingRule | None, actor: str) -> RoutingRule | None:
    """Route a case by a given rule version (a handler rerouting after "not ours" uses this).
    A rule's auto-escalation is not done here: service/flows/routing.py routes, then escalates."""
    route = session.exec(select(ReportRoute).where(ReportRoute.report_id == report.id)).first()
    if route is None:
        route = ReportRoute(report_id=require_id(report))
    route.rule_id, route.actor, route.routed_at = (rule.id if rule else None), actor, now()
    route.category, route.place_id, route.urgency, route.population = (
        report.category,
        report.place_id,
        report.urgency,
        report.population,
    )
    session.add(route)
    org = None
    if rule is not None and rule.org_slug:
        org = session.exec(select(Organisation).where(Organisation.slug == rule.org_slug)).first()
        if org is not None:
            report.org_id = org.id
            session.add(report)
    add_event(
        session,
        report,
        "routed",
        actor=actor,
        detail={
            "rule": rule.rule_key if rule else None,
            "version": rule.version if rule else None,
            "org": org.slug if org else None,
        },
    )
    session.flush()
    return rule


def rule_for_report(session: Session, report: Report) -> RoutingRule | None:
    """The rule version that routed this case, if it was routed."""
    return session.exec(  # one query: a case has one route (report_route.report_id is unique)
        select(RoutingRule)
        .join(ReportRoute, col(ReportRoute.rule_id) == col(RoutingRule.id))
        .where(ReportRoute.report_id == report.id)
    ).first()


def reroute_by_key(session: Session, report: Report, *, key: str, actor: str) -> RoutingRule:
    """Route a case by the current version of a named rule."""
    rule = current_rule(session, key)
    if rule is None or not rule.active:
        raise NotFound(f"no active rule {key!r}")
    set_route(session, report, rule=rule, actor=actor)
    return rule


# -- new reports: routed and clustered by the worker, seconds after they arrive ----------------------
# Routes made by the worker itself; a route set by a person (a handler's reroute, an escalation
# by hand) is never changed automatically.
AUTOMATIC = "system"
# A person's timeline entries that do not stop automatic re-routing: correcting the triage is
# exactly what should move a case to the organisation its facts point to.
NOT_ACTING = ("triage_corrected",)


def acted_on():
    """True for a case a person has acted on: any timeline entry made by a platform user (a note,
    a claim or assignment, a status change, an escalation, a reply, a merge, a reroute by hand)
    other than a triage correction. Reading a case is not acting (views go to the audit log only).
    A correlated EXISTS, so each candidate case is checked through the report_event index."""
    return exists().where(
        col(ReportEvent.report_id) == col(Report.id),
        col(User.email) == col(ReportEvent.actor),
        col(ReportEvent.kind).not_in(NOT_ACTING),
    )


def reroute_changed(session: Session, *, limit: int = 100) -> list[Report]:
    """Route again the cases the worker routed whose facts (category, place, urgency, population)
    have changed since — the reporter named the place after an urgent report was routed, a handler
    corrected the triage — as long as the case is still `triaged` (not escalated, in progress or
    closed) and no person has acted on it. Returns the cases whose rule changed."""
    differs = or_(
        *(
            col(getattr(Report, f)).is_distinct_from(col(getattr(ReportRoute, f)))
            for f in ("category", "place_id", "urgency", "population")
        )
    )
    rows = session.exec(
        select(Report, ReportRoute)
        .join(ReportRoute, col(ReportRoute.report_id) == col(Report.id))
        .where(
            ReportRoute.actor == AUTOMATIC,
            Report.status == "triaged",
            differs,
            ~acted_on(),
        )
        .order_by(col(Report.id))
        .limit(limit)
    ).all()
    moved = []
    for report, route in rows:
        rule = match_rule(
            session,
            category=report.category,
            place_id=report.place_id,
            urgency=report.urgency,
            population=report.population,
        )
        if rule is not None and rule.id == route.rule_id:
            # Same rule: nothing moves; remember the facts so the case is not looked at again.
            route.category, route.place_id, route.urgency, route.population = (
                report.category,
                report.place_id,
                report.urgency,
                report.population,
            )
            session.add(route)
            continue
        set_route(session, report, rule=rule, actor=AUTOMATIC)
        moved.append(report)
    session.flush()
    return moved


def route_new_reports(
    session: Session, *, idle_minutes: int, limit: int = 100, only_urgent: bool = False
) -> list[Report]:
    """Route triaged reports that have no route yet, once their intake dialogue is over (the
    reporter finished, or went idle) — at once when urgent — and group them into clusters.
    Then route again the cases whose facts changed since (`reroute_changed`). Returns both.
    `only_urgent`: the urgent new reports alone, nothing re-routed (the worker's urgent step)."""
    talking = select(Conversation.report_id).where(col(Conversation.report_id).is_not(None))
    routed = select(ReportRoute.report_id)
    quiet_since = now() - timedelta(minutes=idle_minutes)
    query = (
        select(Report)
        .where(
            col(Report.id).not_in(routed),
            Report.status == "triaged",
            (Report.urgency == "urgent")
            if only_urgent
            else (
                (col(Report.urgency) == "urgent") | col(Report.id).not_in(talking) | (Report.created_at < quiet_since)
            ),
        )
        .order_by(col(Report.id))
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        # Each caller routes the reports it claimed; a report another is routing is skipped
        # (the urgent step routes side by side in every worker, see service/flows/arrival.py).
        query = query.with_for_update(skip_locked=True, of=Report)
    due = session.exec(query).all()
    for report in due:
        if not only_urgent:  # the urgent step leaves clustering to the full triage (apply_triage)
            assign_cluster(session, report)
        route_report(session, report, actor=AUTOMATIC)
    if only_urgent:
        return list(due)
    return [*due, *reroute_changed(session, limit=limit)]
