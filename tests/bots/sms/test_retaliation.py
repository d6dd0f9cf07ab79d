"""The retaliation watch on the SMS channel, through the real webhook (signed with the twilio library's
RequestValidator) and the real Twilio REST client against the local fake: the check-in reaches the
reporter's phone seven days after the escalation, and the reply "2" opens the urgent linked case."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from service.escalation import service as esc
from service.flows.routing import route_report
from service.orgs.models import Organisation
from service.orgs.service import create_user
from service.outbox.models import OutboundMessage
from service.reports.models import Report
from service.retaliation.models import RetaliationCheckin
from service.worker import Worker
from tests.escalation.conftest import controlled_clock, seeded  # noqa: F401  (fixtures)
from tests.support.database import configure
from tests.support.review import PASSWORD, sign_in
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


def test_a_checkin_twilio_refuses_is_not_sent_again_and_the_case_page_asks_a_human_to_follow_up(  # type: ignore[no-untyped-def]
        seeded, controlled_clock, fake_twilio, settings, monkeypatch, engine, phone, app) -> None:
    """Twilio's REST API refuses the check-in (a 400: the number cannot receive SMS). The outbox gives it
    up at once (a dead letter); the watch's next pass marks the check-in undelivered, closes its question
    (a later "2" is not read as an answer to a question that never arrived), never sends it again, and the
    case page tells the handler to follow up. The +30 day check-in is still sent when due."""
    new = configure(monkeypatch, SAMLENG_SMS_DRIVER="twilio", TWILIO_ACCOUNT_SID=ACCOUNT_SID,
                    TWILIO_AUTH_TOKEN=AUTH_TOKEN, TWILIO_FROM="+85523000000", TWILIO_API_BASE=fake_twilio.base_url)
    for field in ("sms_driver", "twilio_account_sid", "twilio_auth_token", "twilio_from", "twilio_api_base"):
        setattr(settings, field, getattr(new, field))
    for answer in (STORY.replace("retaliation-sms", "retaliation-dead"), "1", "Chrey", "yes"):
        phone.text(answer)
    with Session(engine) as s:
        report = s.exec(select(Report).where(Report.narrative_masked.contains("retaliation-dead"))).one()  # type: ignore[attr-defined]
        route_report(s, report)
        esc.escalate(s, report, actor="handler@khana.demo")
        holder = s.get_one(Organisation, report.org_id)  # the organisation the case was routed to
        create_user(s, email="handler@khana.demo", org_slug=holder.slug, role="handler", password=PASSWORD)
        s.commit()
        first_id = report.id
    worker = Worker(engine, settings)
    worker.run("retaliation")
    controlled_clock.advance(timedelta(days=7, hours=1))
    worker.run("deliver")  # everything else due by now (replies' redactions) goes first
    assert worker.run("retaliation")["retaliation_sent"] == 1
    fake_twilio.fail_next, fake_twilio.fail_status = 1, 400
    worker.run("deliver")
    assert fake_twilio.fail_next == 0, "the check-in went to Twilio and was refused"
    with Session(engine) as s:
        row = s.exec(select(OutboundMessage).where(col(OutboundMessage.dedupe_key).startswith("retaliation-"))).one()
        assert row.status == "dead"

    assert worker.run("retaliation")["retaliation_undelivered"] == 1
    assert worker.run("retaliation")["retaliation_undelivered"] == 0  # marked once
    with Session(engine) as s:
        seven, thirty = s.exec(select(RetaliationCheckin).where(RetaliationCheckin.report_id == first_id)
                               .order_by(col(RetaliationCheckin.day))).all()
        assert (seven.status, thirty.status) == ("undelivered", "scheduled")
        assert s.exec(select(func.count()).select_from(OutboundMessage)
                      .where(col(OutboundMessage.dedupe_key).startswith("retaliation-"))).one() == 1  # not sent again
    worker.run("deliver")
    checkins_sent = [form for method, path, form in fake_twilio.requests if method == "POST"
                     and path.endswith("/Messages.json") and "treated you worse" in form.get("Body", "")]
    assert len(checkins_sent) == 1, "the refused check-in is never sent again"

    reply = phone.text("2")  # the question never arrived: a "2" is not an answer to it
    assert not reply.startswith("Thank you for telling us. We opened an urgent case"), reply
    with Session(engine) as s:
        assert s.exec(select(Report).where(Report.urgency == "urgent")).first() is None

    client = app  # the review queue, on the same database
    assert sign_in(client, "handler@khana.demo").status_code == 303
    page = client.get(f"/cases/{first_id}").text
    assert 'id="checkin-undelivered"' in page
    assert "The retaliation check-in (7 days after the escalation) did not reach the reporter" in page
    assert "Retaliation check-in not delivered" in page  # on the timeline
    pt = client.get(f"/cases/{first_id}", params={"lang": "pt"}).text
    assert "A pergunta sobre retaliação (7 dias após o encaminhamento) não chegou" in pt

    controlled_clock.advance(timedelta(days=23))  # the +30 day check-in goes out as planned
    assert worker.run("retaliation")["retaliation_sent"] == 1
    worker.run("deliver")
    page = client.get(f"/cases/{first_id}").text
    assert 'id="checkin-undelivered"' not in page, "a later check-in sent: the notice gives way to it"
