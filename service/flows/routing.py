"""Route a case, then escalate it at once when its rule says so.

Routing (service/routing) picks the rule and the organisation; escalation (service/escalation)
climbs the ladder. Routing does not know escalation: this flow joins them. (A handler's reroute, in
service/queue/handling.py, calls `auto_escalate` itself: the queue already stands above both.)
"""

from __future__ import annotations

from sqlmodel import Session

from service.escalation.service import auto_escalate
from service.reports.models import Report
from service.routing import service as routing
from service.routing.models import RoutingRule


def route_report(session: Session, report: Report, *, actor: str = "system") -> RoutingRule | None:
    """Route one case by the rule that matches it; a rule with auto-escalation escalates it now."""
    rule = routing.route_report(session, report, actor=actor)
    auto_escalate(session, report, rule)
    return rule


def route_new_reports(
    session: Session, *, idle_minutes: int, only_urgent: bool = False, limit: int = 100
) -> list[Report]:
    """Route the new reports (and route again those whose facts changed), `limit` of each at
    most, escalating each whose rule says so. Returns the cases routed."""
    routed = routing.route_new_reports(session, idle_minutes=idle_minutes, only_urgent=only_urgent, limit=limit)
    for report in routed:
        auto_escalate(session, report, routing.rule_for_report(session, report))
    return routed
