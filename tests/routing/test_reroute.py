"""Routing follows the case: an urgent report routed before the reporter named the place is routed
again when the place (or category, urgency, population) becomes known, until a person has acted."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from service.escalation import service as esc
from service.orgs.models import User
from service.triage.tasks import FullTriage
from service.worker import Worker
from service.queue import actions
from service.reports.models import Report, ReportEvent
from service.routing import service as routing
from tests.escalation.factories import make_case
from tests.routing.dialogue import (DETENTION, DETENTION_ANSWERS, escalated_to, latest_report, org_of, people,
                                    rule_of, text)


def test_the_detention_report_moves_to_legal_aid_and_is_escalated_at_once(engine, settings, seeded, controlled_clock) -> None:  # type: ignore[no-untyped-def]
    people(engine)
    number = "+85512000101"
    text(engine, settings, number, DETENTION, 0)
    worker = Worker(engine, settings)
    FullTriage(engine).run()
    worker.run("route")
    with Session(engine) as s:
        report = latest_report(s)
        assert report.urgency == "urgent" and report.population == "people_who_use_drugs"
        assert report.place_id is None
        # Routed at once, before the place: the default rule (the only one without a place).
        assert rule_of(s, report) == "default" and org_of(s, report) == "khana-demo"
    for step, answer in enumerate(DETENTION_ANSWERS, start=1):
        text(engine, settings, number, answer, step)
        worker.run("route")
    with Session(engine) as s:
        report = latest_report(s)
        assert org_of(s, report) == "legal-aid-demo"
        assert rule_of(s, report) == "detention-urgent"
        # The urgent-detention rule escalates at once: the provincial drug-control committee.
        assert escalated_to(s, report) == ["bmc-pdcc"]
        assert report.status == "escalated"
        routed = [e.detail for e in s.exec(select(ReportEvent).where(ReportEvent.report_id == report.id,
                                                                     ReportEvent.kind == "routed")).all()]
        assert [r["rule"] for r in routed][0] == "default" and routed[-1]["rule"] == "detention-urgent"
        # The next rung: NACD.
        esc.escalate(s, report, actor="handler@legalaid.example", idempotency_key="after:next")
        assert escalated_to(s, report) == ["bmc-pdcc", "nacd"]
        s.commit()
    # Escalated: no longer routed automatically, whatever changes.
    assert worker.run("route") == 0


def _urgent_unplaced(engine, settings, number: str) -> int:  # type: ignore[no-untyped-def]
    text(engine, settings, number, DETENTION, 0)
    worker = Worker(engine, settings)
    FullTriage(engine).run()
    worker.run("route")
    with Session(engine) as s:
        return latest_report(s).id  # type: ignore[return-value]


def _handler(s: Session) -> User:
    return s.exec(select(User).where(User.email == "handler@khana.example")).one()


@pytest.mark.parametrize("action", ["note", "claim", "status", "reroute"])
def test_once_a_person_has_acted_the_case_stays_where_it_is(engine, settings, seeded, action: str) -> None:  # type: ignore[no-untyped-def]
    people(engine)
    report_id = _urgent_unplaced(engine, settings, "+85512000102")
    with Session(engine) as s:
        report, handler = s.get_one(Report, report_id), _handler(s)
        assert org_of(s, report) == "khana-demo"
        if action == "note":
            actions.add_note(s, user=handler, report=report, text="calling the family")
        elif action == "claim":
            actions.claim(s, user=handler, report=report)
        elif action == "status":
            actions.set_status(s, user=handler, report=report, to="in_progress")
        else:  # routed by hand ("not ours": to the health-centre rule)
            routing.reroute_by_key(s, report, key="hc-service", actor=handler.email)
        s.commit()
    for step, answer in enumerate(DETENTION_ANSWERS, start=1):
        text(engine, settings, "+85512000102", answer, step)
    Worker(engine, settings).run("route")
    with Session(engine) as s:
        report = s.get_one(Report, report_id)
        assert report.place_id is not None
        assert org_of(s, report) == "khana-demo"
        assert rule_of(s, report) == ("hc-service" if action == "reroute" else "default")


def test_reading_a_case_is_not_acting_on_it(engine, settings, seeded) -> None:  # type: ignore[no-untyped-def]
    people(engine)
    report_id = _urgent_unplaced(engine, settings, "+85512000103")
    with Session(engine) as s:
        actions.record_view(s, user=_handler(s), report=s.get_one(Report, report_id), via="web")
        s.commit()
    for step, answer in enumerate(DETENTION_ANSWERS, start=1):
        text(engine, settings, "+85512000103", answer, step)
    Worker(engine, settings).run("route")
    with Session(engine) as s:
        assert org_of(s, s.get_one(Report, report_id)) == "legal-aid-demo"


def test_a_handlers_triage_correction_routes_the_case_again(engine, settings, seeded) -> None:  # type: ignore[no-untyped-def]
    people(engine)
    with Session(engine) as s:
        report = make_case(s, narrative="They keep my brother in the centre", category="human_rights_violation",
                           place="KH-1", population="people_who_use_drugs", route=False)
        report.status = "triaged"
        s.add(report)
        s.commit()
        report_id = report.id
    worker = Worker(engine, settings)
    worker.run("route")
    with Session(engine) as s:
        report = s.get_one(Report, report_id)
        assert rule_of(s, report) == "drug-detention" and escalated_to(s, report) == []
        handler = s.exec(select(User).where(User.email == "handler@legalaid.example")).one()
        actions.correct_triage(s, user=handler, report=report, urgency="urgent")  # "he is held now"
        s.commit()
    worker.run("route")
    with Session(engine) as s:
        report = s.get_one(Report, report_id)
        assert rule_of(s, report) == "detention-urgent" and escalated_to(s, report) == ["bmc-pdcc"]


def test_a_handlers_population_correction_routes_the_case_again(engine, settings, seeded) -> None:  # type: ignore[no-untyped-def]
    """Triage guessed no population; the handler learns the reporter uses drugs and is held in a
    centre: the case belongs to the legal-aid organisation, not the health CSO."""
    people(engine)
    with Session(engine) as s:
        report = make_case(s, narrative="They keep me in the centre", category="service_quality",
                           place="KH-2-OD-THMORKOUL-HC-CHREY", population=None, route=False)
        report.status = "triaged"
        s.add(report)
        s.commit()
        report_id = report.id
    worker = Worker(engine, settings)
    worker.run("route")
    with Session(engine) as s:
        report = s.get_one(Report, report_id)
        assert rule_of(s, report) == "hc-service"
        handler = s.exec(select(User).where(User.role == "handler", User.org_id == report.org_id)).first()
        actions.correct_triage(s, user=handler, report=report, population="people_who_use_drugs")
        s.commit()
        assert report.population == "people_who_use_drugs"
        event = s.exec(select(ReportEvent).where(ReportEvent.report_id == report_id,
                                                 ReportEvent.kind == "triage_corrected")).one()
        assert event.detail["from"]["population"] is None
        assert event.detail["to"]["population"] == "people_who_use_drugs"
    worker.run("route")
    with Session(engine) as s:
        report = s.get_one(Report, report_id)
        assert rule_of(s, report) == "drug-detention" and org_of(s, report) == "legal-aid-demo"


def test_a_change_that_keeps_the_rule_moves_nothing(engine, settings, seeded) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        report = make_case(s, category="service_quality", place="KH-2-OD-THMORKOUL-HC-CHREY", population="plhiv",
                           route=False)
        report.status = "triaged"
        s.add(report)
        s.commit()
        report_id = report.id
    worker = Worker(engine, settings)
    assert worker.run("route") == 1
    with Session(engine) as s:
        report = s.get_one(Report, report_id)
        report.category = "stigma_discrimination"  # still kp-hiv
        s.add(report)
        s.commit()
    assert worker.run("route") == 0
    with Session(engine) as s:
        events = s.exec(select(ReportEvent).where(ReportEvent.report_id == report_id, ReportEvent.kind == "routed")).all()
        assert len(events) == 1
    assert worker.run("route") == 0
