"""The demo's history: thousands of reports that are consistent with the real services (masking,
routing, ladders, retention) and large enough that the public page shows figures, not "<10"."""

from __future__ import annotations

import re
from collections import Counter

from sqlalchemy import func
from sqlmodel import Session, col, select

from service.demo import load_demo
from service.demo_history import history_marker
from service.escalation.models import Escalation
from service.kit.crypto import unseal
from service.kit.masking import mask
from service.orgs.models import Organisation
from service.reports.models import Report, ReportCluster, ReportEvent
from service.routing.models import ReportRoute
from service.routing.service import match_rule, resolve_ladder

PHONE = re.compile(r"\d{3}[ -]?\d{3}[ -]?\d{3}")


def test_the_demo_history_is_consistent_and_fills_the_public_page(live_server, session: Session) -> None:  # type: ignore[no-untyped-def]
    summary = load_demo(session, history=3000)
    session.commit()
    assert summary["history"] == 3000
    assert load_demo(session)["history"] == 0  # loaded once: its first receipt is there
    reports = session.exec(select(Report).where(col(Report.id) > 10)).all()
    assert len(reports) == 3000
    assert history_marker(2026) == history_marker(2026) != history_marker(7)

    # Masking: the stored masked text is mask() of the sealed words; no phone number survives it.
    sealed = [r for r in reports if r.narrative_sealed is not None]
    assert 200 < len(sealed) < len(reports)  # the words of cases that ended months ago are gone (retention)
    with_phone = [r for r in sealed if PHONE.search(unseal(r.narrative_sealed))]  # type: ignore[arg-type]
    assert len(with_phone) > 10
    for r in sealed:
        assert r.narrative_masked == mask(unseal(r.narrative_sealed))  # type: ignore[arg-type]
    assert not any(PHONE.search(r.narrative_masked) for r in reports)
    assert {r.language for r in reports} == {"km", "en", "pt"}

    # Routing: each case sits with the organisation its rule names, and escalations climb its ladder.
    orgs = {o.id: o.slug for o in session.exec(select(Organisation)).all()}
    assert Counter(orgs[r.org_id] for r in reports).keys() == {"khana-demo", "legal-aid-demo", "exminers-demo"}  # type: ignore[index]
    routes = {rt.report_id: rt for rt in session.exec(select(ReportRoute)).all()}
    escalations: dict[int, list[Escalation]] = {}
    for e in session.exec(select(Escalation).order_by(col(Escalation.rung))).all():
        escalations.setdefault(e.report_id, []).append(e)
    for r in reports[::37]:
        rule = match_rule(session, category=r.category, place_id=r.place_id, urgency=r.urgency,
                          population=r.population)
        assert rule is not None and orgs[r.org_id] == rule.org_slug and routes[r.id].rule_id == rule.id  # type: ignore[index]
    checked = 0
    for rid, rows in list(escalations.items())[::5]:
        r = session.get_one(Report, rid)
        rule = match_rule(session, category=r.category, place_id=r.place_id, urgency=r.urgency,
                          population=r.population)
        ladder = [x.body.id for x in resolve_ladder(session, rule, place_id=r.place_id, category=r.category)  # type: ignore[arg-type]
                  if x.body is not None]
        assert [e.body_id for e in rows] == ladder[:len(rows)]
        checked += 1
    assert checked > 10
    statuses = Counter(e.status for rows in escalations.values() for e in rows)
    assert statuses["expired"] and statuses["responded"] and statuses["resolved"]
    assert sum(1 for r in reports if r.satisfaction) > 100
    assert session.exec(select(func.count()).select_from(ReportCluster).where(ReportCluster.systemic)).one() > 5
    # The worker has nothing left to do with them: triaged, routed, no waiting escalation past its deadline.
    assert not [r for r in reports if r.status == "received" or r.id not in routes]
    assert all(e.due_at > e.created_at for rows in escalations.values() for e in rows)  # type: ignore[operator]
    kinds = set(session.exec(select(ReportEvent.kind).distinct()).all())
    assert {"received", "routed", "escalated", "body_response", "status", "satisfaction"} <= kinds

    # The public page: real figures in most cells, across the 18 months.
    session.rollback()  # end this test's read transaction before the server's own
    html = live_server.client.get("/public").text
    figures = [int(n) for n in re.findall(r"<td[^>]*>(\d+)</td>", html)]
    assert len([n for n in figures if n >= 10]) >= 10, html[:3000]
