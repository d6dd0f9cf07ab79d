"""Routing rules: the bundled seeds for the four settings, versioned edits, the simulator, route_report."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from service.bodies.service import load_bodies
from service.demo import ORGS
from service.kit.errors import InvalidInput
from service.orgs.models import Organisation
from service.orgs.service import create_org
from service.places.models import Place
from service.reports.models import ReportEvent
from service.reports.service import create_report
from service.routing import service as routing
from service.routing.models import RoutingRule


@pytest.fixture
def seeded_session(session: Session, places) -> Session:  # type: ignore[no-untyped-def]
    for slug, name in ORGS:
        create_org(session, slug=slug, name=name)
    load_bodies(session)
    routing.load_rules(session)
    return session


def ladder(result: dict) -> list[str | None]:
    return [r["body"] for r in result["ladder"]]


def test_setting_1_key_population_hiv_report_climbs_the_health_system(seeded_session: Session) -> None:
    result = routing.simulate(seeded_session, category="stigma_discrimination", place="Chrey", population="msm")
    assert result["rule"]["key"] == "kp-hiv" and result["org"] == "khana-demo"
    assert ladder(result) == ["chrey-hc", "chrey-hcmc", "thmorkoul-od", "battambang-phd", "nchads"]
    tb = routing.simulate(seeded_session, category="service_quality", place="Chrey", population="tb")
    assert tb["rule"]["key"] == "kp-tb" and ladder(tb)[-1] == "cenat"


def test_setting_2_health_centre_service_problem_goes_to_hcmc_then_od(seeded_session: Session) -> None:
    result = routing.simulate(seeded_session, category="service_quality", place="KH-2-OD-THMORKOUL-HC-CHREY")
    assert result["rule"]["key"] == "hc-service"
    assert ladder(result) == ["chrey-hcmc", "thmorkoul-od"]


def test_setting_3_drug_detention_goes_to_pdcc_then_nacd(seeded_session: Session) -> None:
    result = routing.simulate(seeded_session, category="human_rights_violation", place="Banteay Meanchey",
                              population="people_who_use_drugs")
    assert result["rule"]["key"] == "drug-detention" and result["org"] == "legal-aid-demo"
    assert ladder(result) == ["bmc-pdcc", "nacd"]
    urgent = routing.simulate(seeded_session, category="human_rights_violation", place="Banteay Meanchey",
                              population="people_who_use_drugs", urgency="urgent")
    assert urgent["rule"]["key"] == "detention-urgent" and urgent["rule"]["auto_escalate"] is True


def test_police_abuse_of_a_key_population_goes_to_legal_aid_then_national_human_rights_body(
        seeded_session: Session) -> None:
    # The demo's "police took our condoms" report (human-rights violation, sex worker, Phnom Penh) fell to
    # the fallback rule with an empty ladder: its escalation page said no body was left to ask.
    for urgency in ("urgent", "high"):
        result = routing.simulate(seeded_session, category="human_rights_violation", place="Phnom Penh",
                                  population="sex_worker", urgency=urgency)
        assert result["rule"]["key"] == "kp-rights" and result["org"] == "legal-aid-demo"
        assert ladder(result) == ["kh-chrc", "aichr"]
    # drug users keep their own, more specific ladder
    drugs = routing.simulate(seeded_session, category="human_rights_violation", place="Phnom Penh",
                             population="people_who_use_drugs")
    assert drugs["rule"]["key"] == "drug-detention"


def test_setting_4_miner_goes_to_national_tb_programme_then_regional(seeded_session: Session) -> None:
    result = routing.simulate(seeded_session, category="financial_hardship", place="Carletonville", population="miner")
    assert result["rule"]["key"] == "miner-tb" and result["org"] == "exminers-demo"
    assert ladder(result) == ["za-ntp", "sadc-tb-mining"]


def test_a_rung_without_a_body_for_the_place_is_shown_as_skipped(seeded_session: Session) -> None:
    result = routing.simulate(seeded_session, category="service_quality", place="Siem Reap", population="msm")
    assert result["rule"]["key"] == "kp-hiv"
    assert ladder(result) == [None, None, None, None, "nchads"]


def test_nothing_specific_falls_back_to_the_default_rule(seeded_session: Session) -> None:
    assert routing.simulate(seeded_session, category="other")["rule"]["key"] == "default"


def test_edits_make_versions_and_keep_history(seeded_session: Session) -> None:
    before = routing.current_rule(seeded_session, "hc-service")
    assert routing.load_rules(seeded_session) and routing.current_rule(seeded_session, "hc-service").version == 1  # type: ignore[union-attr]
    edited = routing.save_rule(seeded_session, key="hc-service", name=before.name, actor="admin@x", priority=10,  # type: ignore[union-attr]
                               categories=["service_quality"], place_code="KH", org_slug="khana-demo",
                               ladder=[{"level": "operational_district"}])
    assert edited.version == 2 and edited.created_by == "admin@x"
    history = routing.rule_history(seeded_session, "hc-service")
    assert [(r.version, r.current) for r in history] == [(1, False), (2, True)]
    assert history[0].ladder == [{"level": "hcmc"}, {"level": "operational_district"}]
    assert ladder(routing.simulate(seeded_session, category="service_quality", place="Chrey")) == ["thmorkoul-od"]
    retired = routing.retire_rule(seeded_session, key="hc-service", actor="admin@x")
    assert retired.version == 3 and not retired.active
    assert routing.simulate(seeded_session, category="service_quality", place="Chrey")["rule"]["key"] == "default"


@pytest.mark.parametrize("bad", [
    {"categories": ["nonsense"]}, {"place_code": "XX-NOWHERE"}, {"ladder": [{"body": "no-such-body"}]},
    {"ladder": [{"level": "galactic"}]}, {"ladder": ["hcmc"]}, {"populations": ["aliens"]},
])
def test_invalid_rules_are_refused(seeded_session: Session, bad: dict) -> None:
    with pytest.raises(InvalidInput):
        routing.save_rule(seeded_session, key="x", name="x", actor="a", **bad)
    assert seeded_session.exec(select(RoutingRule).where(RoutingRule.rule_key == "x")).first() is None


def test_route_report_sets_the_handling_org_and_records_the_rule_version(seeded_session: Session) -> None:
    report, _ = create_report(seeded_session, channel="sms", reporter_id=None, narrative="no PrEP", language="en")
    report.category, report.population = "service_quality", "msm"
    report.place_id = seeded_session.exec(select(Place).where(Place.code == "KH-2-OD-THMORKOUL-HC-CHREY")).one().id
    rule = routing.route_report(seeded_session, report, actor="triage")
    assert rule is not None and rule.rule_key == "kp-hiv"
    org = seeded_session.exec(select(Organisation).where(Organisation.slug == "khana-demo")).one()
    assert report.org_id == org.id
    assert routing.rule_for_report(seeded_session, report).id == rule.id  # type: ignore[union-attr]
    event = seeded_session.exec(select(ReportEvent).where(ReportEvent.report_id == report.id,
                                                          ReportEvent.kind == "routed")).one()
    assert event.detail == {"rule": "kp-hiv", "version": 1, "org": "khana-demo"}


def test_cli_simulate(settings, engine, places, capsys) -> None:  # type: ignore[no-untyped-def]
    from service.cli import main

    with Session(engine) as s:
        for slug, name in ORGS:
            create_org(s, slug=slug, name=name)
        s.commit()
    assert main(["bodies", "load"]) == 0 and main(["routing", "load"]) == 0
    capsys.readouterr()
    assert main(["routing", "simulate", "--category", "human_rights_violation", "--place", "Banteay Meanchey",
                 "--population", "people_who_use_drugs"]) == 0
    out = capsys.readouterr().out
    assert "rule drug-detention v1" in out and "-> bmc-pdcc" in out and "-> nacd" in out
    assert main(["routing", "simulate", "--place", "Atlantis"]) == 2
