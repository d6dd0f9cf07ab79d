"""The retaliation watch on the SMS channel, through the real webhook (signed with the twilio library's
RequestValidator) and the real Twilio REST client against the local fake: the check-in reaches the
reporter's phone seven days after the escalation, and the reply "2" opens the urgent linked case."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from service.escalation import service as esc
from service.flows.routing import route_report
from service.orgs.models import Organisation
from service.reports.models import Report
from service.worker import Worker
from tests.escalation.conftest import controlled_clock, seeded  # noqa: F401  (fixtures)
from tests.support.database import configure
from tests.support.twilio_fake import ACCOUNT_SID, AUTH_TOKEN

STORY = "At Chrey health centre the nurse refused to give me my ARVs unless I paid, retaliation-sms"


def test_a_checkin_by_sms_and_the_answer_2_open_an_urgent_case_for_legal_aid(  # type: ignore[no-untyped-def]
        seeded, controlled_clock, fake_twilio, settings, monkeypatch, engine, phone) -> None:
    new = configure(monkeypatch, SAMLENG_SMS_DRIVER="twilio", TWILIO_ACCOUNT_SID=ACCOUNT_SID,
                    TWILIO_AUTH_TOKEN=AUTH_TOKEN, TWILIO_FROM="+85523000000", TWILIO_API_BASE=fake_twilio.base_url)
    for field in ("sms_driver", "twilio_account_sid", "twilio_auth_token", "twilio_from", "twilio_api_base"):
        setattr(settings, field, getattr(new, field))
    for answer in (STORY, "1", "Chrey", "yes"):
        phone.text(answer)
    with Session(engine) as s:
        report = s.exec(select(Report).where(Report.narrative_masked.contains("retaliation-sms"))).one()  # type: ignore[attr-defined]
        route_report(s, report)
        esc.escalate(s, report, actor="handler@khana.demo")
        s.commit()
        first_id = report.id
    worker = Worker(engine, settings)
    worker.run("retaliation")
    controlled_clock.advance(timedelta(days=7, hours=1))
    assert worker.run("retaliation")["retaliation_sent"] == 1
    worker.run("deliver")
    sms = [form["Body"] for method, path, form in fake_twilio.requests
           if method == "POST" and path.endswith("/Messages.json") and form.get("To") == phone.number]
    assert any("has anyone treated you worse or threatened you? Reply 1 No, 2 Yes." in body for body in sms), sms

    reply = phone.text("2")
    assert reply.startswith("Thank you for telling us. We opened an urgent case")
    with Session(engine) as s:
        legal = s.exec(select(Organisation).where(Organisation.slug == "legal-aid-demo")).one()
        case = s.exec(select(Report).where(Report.urgency == "urgent")).one()
        assert case.org_id == legal.id and str(first_id) in case.narrative_masked
        assert case.id != first_id
