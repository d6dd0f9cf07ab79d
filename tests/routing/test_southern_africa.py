"""The migrant-miners setting: every country that sends miners has its national TB programme and
an ex-mineworkers' association among the bodies, and a miner's report reaches the ex-mineworkers'
association's queue with the ladder: national TB programme of the country they live in now →
the regional mechanism (SADC / ARASA)."""

from __future__ import annotations

import pytest
import yaml
from sqlmodel import Session, select

from service.bodies import service as bodies
from service.bodies.models import GrievanceBody
from service.demo import ORGS
from service.escalation import service as esc
from service.intake.schemas import InboundMessage
from service.intake.service import receive
from service.orgs.models import Organisation
from service.orgs.service import create_org
from service.triage.tasks import FullTriage
from service.worker import Worker
from service.places.models import Place
from service.reports.models import Report
from service.routing import service as routing

SENDING_COUNTRIES = {"ZA": "Carletonville", "LS": "Mohale's Hoek", "MZ": "Xai-Xai", "SZ": "Manzini",
                     "BW": "Selebi-Phikwe", "MW": "Karonga"}


@pytest.fixture
def seeded_session(session: Session, places) -> Session:  # type: ignore[no-untyped-def]
    for slug, name in ORGS:
        create_org(session, slug=slug, name=name)
    bodies.load_bodies(session)
    routing.load_rules(session)
    return session


def ladder(result: dict) -> list[str | None]:
    return [r["body"] for r in result["ladder"]]


@pytest.mark.parametrize("country,town", sorted(SENDING_COUNTRIES.items()))
@pytest.mark.parametrize("population", ["miner", "tb", None])
def test_a_report_from_a_sending_country_reaches_the_ex_mineworkers_queue(
        seeded_session: Session, country: str, town: str, population: str | None) -> None:
    result = routing.simulate(seeded_session, category="financial_hardship", place=town, population=population)
    assert result["org"] == "exminers-demo", result["rule"]
    assert ladder(result) == [f"{country.lower()}-ntp", "sadc-tb-mining"]


def test_every_organisation_a_rule_routes_to_is_created_by_the_demo() -> None:
    rules = yaml.safe_load(routing.DATA_FILE.read_text(encoding="utf-8"))["rules"]
    assert {r["org"] for r in rules if r.get("org")} <= {slug for slug, _ in ORGS}


def _dialogue(session: Session, settings, number: str, texts: list[str]) -> list[str]:  # type: ignore[no-untyped-def]
    replies = []
    for step, text in enumerate(texts):
        reply = receive(session, InboundMessage(channel="sms", external_id=f"SM{number[-6:]}{step:02d}",
                                                address=number, text=text), settings=settings)
        replies.append(reply.text)
    return replies


MINERS = [
    # A Mozambican ex-miner, in Portuguese, home in Xai-Xai (Gaza).
    ("+258840000001",
     ["Trabalhei 14 anos nas minas de ouro em Carletonville. Agora tenho tuberculose e o fundo de "
      "compensação nunca respondeu. O hospital aqui não tem medicamentos de TB", "3", "Xai-Xai", "0"],
     "MZ-G-XAIXAI", "mz-ntp"),
    # A Basotho ex-miner, in English, home in Mohale's Hoek.
    ("+266580000002",
     ["I am an ex-mineworker from the Free State gold mines, I have TB again and silicosis. "
      "The compensation office in Maseru keeps sending me back", "3", "Mohales Hoek", "0"],
     "LS-F", "ls-ntp"),
]


@pytest.mark.parametrize("number,texts,place_code,ntp", MINERS, ids=["mozambique-pt", "lesotho-en"])
def test_an_ex_miner_reaches_the_association_then_climbs_to_the_regional_mechanism(
        engine, settings, places, number: str, texts: list[str], place_code: str, ntp: str) -> None:  # type: ignore[no-untyped-def]
    with Session(engine, expire_on_commit=False) as s:
        for slug, name in ORGS:
            create_org(s, slug=slug, name=name)
        bodies.load_bodies(s)
        routing.load_rules(s)
        _dialogue(s, settings, number, texts)
        s.commit()
    worker = Worker(engine, settings)
    FullTriage(engine).run()
    worker.run("route")
    with Session(engine, expire_on_commit=False) as s:
        report = s.exec(select(Report)).one()
        place = s.get_one(Place, report.place_id)
        assert place.code == place_code or place.code.startswith(place_code + "-")
        assert report.population == "miner"
        org = s.get_one(Organisation, report.org_id)
        assert org.slug == "exminers-demo"  # the ex-mineworkers' association, not KHANA
        first = esc.escalate(s, report, actor="handler@exminers.demo", idempotency_key="after:0")
        assert s.get_one(GrievanceBody, first.body_id).slug == ntp
        second = esc.escalate(s, report, actor="handler@exminers.demo", idempotency_key=f"after:{first.id}")
        assert s.get_one(GrievanceBody, second.body_id).slug == "sadc-tb-mining"
        s.commit()
