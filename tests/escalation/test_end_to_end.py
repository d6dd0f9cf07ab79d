"""The four seed settings end to end, through real HTTP at every edge.

A person texts the signed Twilio webhook → the report is routed (as the lead's triage step
will) → a handler escalates → the worker emails the body through a real SMTP server (or
posts a signed webhook) → the body answers through its link (or the API) → the reporter is
told by SMS through the real twilio client → the case closes → the reporter's "1/2/3"
answer arrives through the webhook and is recorded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from sqlmodel import Session, col, select

from service.bodies.service import get_body, issue_api_token, upsert_body, webhook_secret
from service.config import get_settings
from service.escalation import service as esc
from service.worker import Worker
from service.reports.models import Report, ReportEvent
from service.flows.routing import route_report
from tests.support.database import configure
from tests.support.twilio_fake import ACCOUNT_SID, AUTH_TOKEN, Phone

LINK = re.compile(r"http://127\.0\.0\.1:\d+/respond/[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+")
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class World:
    live: object
    engine: object
    smtp: object
    twilio: object
    receiver: object

    def worker_pass(self) -> dict[str, int]:
        return Worker(self.engine, get_settings()).run_once()  # type: ignore[arg-type]

    def sms_to(self, number: str) -> list[str]:
        return [form["Body"] for _, path, form in self.twilio.requests  # type: ignore[attr-defined]
                if path.endswith("/Messages.json") and form.get("To") == number]


@pytest.fixture
def world(settings, monkeypatch, request, engine, seeded, smtp, fake_twilio, receiver):  # type: ignore[no-untyped-def]
    new = configure(monkeypatch, TWILIO_AUTH_TOKEN=AUTH_TOKEN, SAMLENG_SMS_DRIVER="twilio", TWILIO_ACCOUNT_SID=ACCOUNT_SID,
                    TWILIO_FROM="+85523000000", TWILIO_API_BASE=fake_twilio.base_url, SAMLENG_SMTP_URL=smtp.url)
    for field in ("twilio_auth_token", "sms_driver", "twilio_account_sid", "twilio_from", "twilio_api_base", "smtp_url"):
        setattr(settings, field, getattr(new, field))
    live = request.getfixturevalue("live_server")
    get_settings().public_url = live.base_url
    return World(live=live, engine=engine, smtp=smtp, twilio=fake_twilio, receiver=receiver)


@dataclass(frozen=True)
class Setting:
    name: str
    number: str
    story: str
    answers: tuple[str, str, str]  # category, place, consent
    population: str | None  # what triage would infer
    rule: str
    first_body: str
    via: str  # how the body answers: link or api
    actions: tuple[str, ...]
    satisfaction: str  # what the reporter answers at closure


SETTINGS = [
    Setting("kp-hiv", "+85510100001", "The nurse refused to give me PrEP because I am MSM, call 012 345 678",
            ("2", "Chrey", "YES"), "msm", "kp-hiv", "chrey-hc", "link", ("acknowledge", "resolved"), "1"),
    Setting("hc-service", "+85510100002", "No staff at the health centre all day, we waited until evening",
            ("1", "Chrey", "YES"), None, "hc-service", "chrey-hcmc", "link", ("resolved",), "3"),
    Setting("drug-detention", "+85510100003", "My brother spent 3 months in the compulsory drug centre in 2024, no treatment there, only work",
            ("4", "Banteay Meanchey", "YES"), "people_who_use_drugs", "drug-detention", "bmc-pdcc", "link",
            ("action_taken", "resolved"), "2"),
    Setting("miner-tb", "+27820000004", "I worked 15 years at the mine and got TB, the compensation fund never answered",
            ("3", "Carletonville", "YES"), "miner", "miner-tb", "za-ntp", "api", ("acknowledge", "resolved"), "1"),
]


@pytest.mark.slow
@pytest.mark.parametrize("case", SETTINGS, ids=[c.name for c in SETTINGS])
def test_setting_end_to_end(world: World, case: Setting) -> None:
    engine = world.engine
    phone = Phone(client=world.live.client, base_url=world.live.base_url, number=case.number)  # type: ignore[attr-defined]
    if case.via == "api":  # this body integrates: a signed webhook instead of (as well as) email
        with Session(engine) as s:
            body = get_body(s, case.first_body)
            body = upsert_body(s, slug=body.slug, name_en=body.name_en, name_km=body.name_km, level=body.level,
                               network=body.network, language=body.language, email=body.email,
                               webhook_url=world.receiver.url, categories=body.categories)  # type: ignore[attr-defined]
            world.receiver.secret = webhook_secret(body)  # type: ignore[attr-defined]
            token = issue_api_token(s, body)
            s.commit()

    # 1. The report arrives by SMS through the signed webhook.
    phone.text(case.story)
    for answer in case.answers:
        last = phone.text(answer)
    assert "receipt code" in last

    # 2. Triage (the lead's step) sets the population; routing picks the rule and the CSO.
    with Session(engine) as s:
        report = s.exec(select(Report).order_by(col(Report.id).desc())).first()
        assert report is not None and report.consent_followup is True
        report.population = case.population
        rule = route_report(s, report, actor="triage")
        assert rule is not None and rule.rule_key == case.rule
        # 3. A handler escalates (a double click sends the same key: one escalation).
        first = esc.escalate(s, report, actor="handler@demo", idempotency_key="after:0")
        assert esc.escalate(s, report, actor="handler@demo", idempotency_key="after:0").id == first.id
        report_id, body_email = report.id, get_body(s, case.first_body).email
        s.commit()

    # 4. The worker delivers: the body's email (real SMTP), the reporter's SMS (real twilio client).
    world.worker_pass()
    mails = world.smtp.to(body_email)  # type: ignore[attr-defined]
    assert len(mails) == 1
    text = mails[0].get_content()
    assert case.number not in text and "012 345 678" not in text
    link = LINK.search(text).group(0)  # type: ignore[union-attr]
    assert any("sent to the authority responsible" in b for b in world.sms_to(case.number))

    # 5. The body answers: through its one-page link (no account), or through the API with its token.
    if case.via == "link":
        page = world.live.client.get(link)  # type: ignore[attr-defined]
        assert page.status_code == 200 and "[phone]" in page.text or case.name != "kp-hiv"
        assert case.number not in page.text
        csrf = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
        for action in case.actions:
            answer = world.live.client.post(link, data={"csrf": csrf, "action": action,  # type: ignore[attr-defined]
                                                        "text": "Checked with the centre director"})
            assert answer.status_code == 200, answer.text
    else:
        (delivery,) = world.receiver.processed.values()  # type: ignore[attr-defined]
        assert delivery["type"] == "case.escalated" and delivery["data"]["case"] == report_id
        assert LINK.match(delivery["data"]["respond_url"])
        api = delivery["data"]["respond_api"]
        headers = {"Authorization": f"Bearer {token}"}
        listed = world.live.client.get("/api/v1/body/escalations", headers=headers).json()  # type: ignore[attr-defined]
        assert [item["case"] for item in listed] == [report_id]
        for action in case.actions:
            response = world.live.client.post(api, json={"action": action, "text": "Referred to the fund"},  # type: ignore[attr-defined]
                                              headers=headers)
            assert response.status_code == 200, response.text
        refused = world.live.client.post(api, json={"action": "resolved"}, headers={"Authorization": "Bearer sbt_wrong"})  # type: ignore[attr-defined]
        assert refused.status_code == 401

    with Session(engine) as s:
        report = s.get(Report, report_id)
        assert report.status == "resolved"  # type: ignore[union-attr]
        # 6. The handler closes the case; the reporter is told and asked.
        esc.close_case(s, report, actor="handler@demo")  # type: ignore[arg-type]
        s.commit()
    world.worker_pass()
    told = world.sms_to(case.number)
    assert any("resolved" in b for b in told), told
    assert any("Reply 1 yes, 2 no, 3 partly" in b for b in told)

    # 7. The reporter answers through the same webhook; "2" (no) reopens the case for a supervisor.
    reply = phone.text(case.satisfaction)
    assert reply.startswith("Thank you")
    with Session(engine) as s:
        report = s.get(Report, report_id)
        expected = {"1": "yes", "2": "no", "3": "partly"}[case.satisfaction]
        assert report.satisfaction == expected  # type: ignore[union-attr]
        assert report.status == ("in_progress" if expected == "no" else "closed")  # type: ignore[union-attr]
        kinds = [e.kind for e in s.exec(select(ReportEvent).where(ReportEvent.report_id == report_id)).all()]
        assert {"routed", "escalated", "body_response", "reporter_notified", "satisfaction"} <= set(kinds)
        assert ("reopened" in kinds) == (expected == "no")
    # A later "1" is a new report, not a second answer.
    assert "What is it about" in phone.text("1")
