"""A handler has an undelivered retaliation check-in sent again, on both databases: from the case page's
button (a form submitted twice sends one message) and from the JSON API; through the outbox and Twilio's
REST API (the local fake) by the same channel and in the same language; audited; shown on the card; and
the reporter's "2" to it opens the urgent linked case as for the first. Refused with its reason, never a
500, when the reporter withdrew, said STOP or gave no consent, or the check-in was answered or is not
undelivered; and for a handler who is not the case's."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlmodel import Session, col, select

from service.audit.models import AuditEvent
from service.escalation import service as esc
from service.intake.schemas import InboundMessage
from service.intake.service import receive
from service.orgs.models import Organisation, User
from service.orgs.service import create_user
from service.outbox.models import OutboundMessage
from service.reports.models import Report, ReportEvent, Reporter
from service.retaliation.models import RetaliationCheckin
from service.worker import Worker
from tests.escalation.factories import make_case, text_of
from tests.support.database import configure
from tests.support.review import PASSWORD, bearer, csrf_of, sign_in
from tests.support.twilio_fake import ACCOUNT_SID, AUTH_TOKEN

PHONE = "+85512555777"
CHECKIN_EN = "has anyone treated you worse or threatened you? Reply 1 No, 2 Yes."
CHECKIN_KM = "ឆ្លើយ 1 ទេ, 2 មាន"
HANDLER, OTHER, SUPERVISOR = "handler@khana.demo", "other@khana.demo", "supervisor@khana.demo"


@pytest.fixture
def twilio(settings, monkeypatch, fake_twilio):  # type: ignore[no-untyped-def]
    """The SMS driver talks to the local fake Twilio REST API (the real twilio library)."""
    new = configure(monkeypatch, SAMLENG_SMS_DRIVER="twilio", TWILIO_ACCOUNT_SID=ACCOUNT_SID,
                    TWILIO_AUTH_TOKEN=AUTH_TOKEN, TWILIO_FROM="+85523000000", TWILIO_API_BASE=fake_twilio.base_url)
    for field in ("sms_driver", "twilio_account_sid", "twilio_auth_token", "twilio_from", "twilio_api_base"):
        setattr(settings, field, getattr(new, field))
    return fake_twilio


def checkins_to(twilio, number: str, text: str = CHECKIN_EN) -> list[str]:  # type: ignore[no-untyped-def]
    """The check-ins Twilio was asked to send to the number (refused ones included)."""
    return [form["Body"] for method, path, form in list(twilio.requests)
            if method == "POST" and path.endswith("/Messages.json") and form.get("To") == number
            and text in form.get("Body", "")]


def undelivered_case(engine, settings, controlled_clock, twilio, *, address: str = PHONE,  # type: ignore[no-untyped-def]
                     language: str = "en") -> int:
    """A consented case at Chrey health centre, escalated, assigned to HANDLER; its +7 day check-in refused by
    Twilio (a dead letter) and marked undelivered by the watch. Returns the case's id."""
    with Session(engine) as s:
        report = make_case(s, address=address, language=language)
        if language != "en":
            reporter = s.get_one(Reporter, report.reporter_id)
            reporter.language = language
            s.add(reporter)
        esc.escalate(s, report, actor=HANDLER)
        org = s.get_one(Organisation, report.org_id)
        for email, role in ((HANDLER, "handler"), (OTHER, "handler"), (SUPERVISOR, "supervisor")):
            if s.exec(select(User).where(User.email == email)).first() is None:
                create_user(s, email=email, org_slug=org.slug, role=role, password=PASSWORD)
        s.flush()
        report.assigned_user_id = s.exec(select(User.id).where(User.email == HANDLER)).one()
        s.add(report)
        s.commit()
        case_id = report.id
    worker = Worker(engine, settings)
    worker.run("retaliation")
    controlled_clock.advance(timedelta(days=7, hours=1))
    worker.run("deliver")  # anything else due first
    assert worker.run("retaliation")["retaliation_sent"] == 1
    twilio.refuse_to.add(address)
    worker.run("deliver")
    assert worker.run("retaliation")["retaliation_undelivered"] == 1
    twilio.refuse_to.discard(address)  # the reporter's phone works again (a new SIM, back in coverage)
    return case_id  # type: ignore[return-value]


def seven_day(engine, case_id: int) -> RetaliationCheckin:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return s.exec(select(RetaliationCheckin).where(RetaliationCheckin.report_id == case_id,
                                                       RetaliationCheckin.day == 7)).one()


def press(app, case_id: int) -> tuple[str, dict[str, str]]:  # type: ignore[no-untyped-def]
    """The case page's send-again form: its action and fields, as a browser would submit them."""
    page = app.get(f"/cases/{case_id}").text
    form = re.search(r'<form method="post" action="([^"]+)"[^>]*id="checkin-send-again">(.*?)</form>', page, re.S)
    assert form, page[page.find('id="checkin-undelivered"'):][:2000]
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form.group(2)))
    assert fields["csrf_token"] == csrf_of(page)
    return form.group(1), fields


def test_the_button_sends_it_again_once_and_the_answer_2_opens_the_urgent_case(  # type: ignore[no-untyped-def]
        seeded, controlled_clock, twilio, settings, engine, app) -> None:
    case_id = undelivered_case(engine, settings, controlled_clock, twilio)
    checkin = seven_day(engine, case_id)
    assert checkin.status == "undelivered"
    assert sign_in(app, HANDLER).status_code == 303
    page = app.get(f"/cases/{case_id}").text
    assert "did not reach the reporter, and it is not sent again automatically" in page
    assert "Send the check-in again" in page and 'id="checkin-sent-again"' not in page

    action, fields = press(app, case_id)
    assert action == f"/cases/{case_id}/retaliation/{checkin.id}/send-again" and fields["after"] == "0"
    first = app.post(action, data=fields, follow_redirects=False)
    again = app.post(action, data=fields, follow_redirects=False)  # the same form submitted twice
    assert (first.status_code, again.status_code) == (303, 303), (first.text, again.text)
    with Session(engine) as s:
        rows = s.exec(select(OutboundMessage).where(col(OutboundMessage.dedupe_key).startswith("retaliation-"))
                      .order_by(col(OutboundMessage.id))).all()
        assert [r.dedupe_key for r in rows] == [f"retaliation-{checkin.id}", f"retaliation-{checkin.id}-again-1"]
        assert rows[1].channel == rows[0].channel == "sms" and rows[1].report_id == case_id
        assert CHECKIN_EN in text_of(rows[1])
        audit = s.exec(select(AuditEvent).where(AuditEvent.action == "retaliation.send_again")).all()
        assert len(audit) == 1 and audit[0].actor == HANDLER and audit[0].object_id == str(case_id)
        assert audit[0].detail["checkin"] == checkin.id and audit[0].detail["outbound_id"] == rows[1].id
        events = s.exec(select(ReportEvent).where(ReportEvent.report_id == case_id,
                                                  ReportEvent.kind == "retaliation_resent")).all()
        assert [(e.actor, e.detail) for e in events] == [(HANDLER, {"day": 7, "channel": "sms",
                                                                    "checkin": checkin.id})]
    assert seven_day(engine, case_id).status == "sent"

    page = app.get(f"/cases/{case_id}").text
    card = page[page.index('id="checkin-undelivered"'):page.index('<div class="grid">')]
    assert "was sent again and waits for its answer" in card and f"by {HANDLER}" in card
    assert 'id="checkin-send-again"' not in card, "waiting for its answer: nothing to press"
    assert "Retaliation check-in sent again" in page  # on the timeline

    worker = Worker(engine, settings)
    worker.run("deliver")
    assert len(checkins_to(twilio, PHONE)) == 2, "the refused one, then the one sent again: once"
    assert worker.run("retaliation")["retaliation_undelivered"] == 0, "the old dead letter no longer counts"
    worker.run("deliver")
    assert len(checkins_to(twilio, PHONE)) == 2

    with Session(engine) as s:
        reply = receive(s, InboundMessage(channel="sms", external_id="SMagain2", address=PHONE, text="2"))
        s.commit()
        assert reply.kind == "retaliation" and reply.text.startswith("Thank you for telling us. We opened an urgent")
        urgent = s.get_one(Report, reply.report_id)
        assert urgent.urgency == "urgent" and urgent.id != case_id and str(case_id) in urgent.narrative_masked
        answered = s.exec(select(RetaliationCheckin).where(RetaliationCheckin.id == checkin.id)).one()
        assert (answered.status, answered.answer, answered.followup_report_id) == ("answered", "yes", urgent.id)
    page = app.get(f"/cases/{case_id}").text
    assert 'id="checkin-undelivered"' not in page, "answered: the card gives way"
    # Answered: pressing the old form again changes nothing; a new press is refused with its reason.
    assert app.post(action, data=fields, follow_redirects=False).status_code == 303
    refused = app.post(action, data={**fields, "after": "1"}, follow_redirects=False)
    assert refused.status_code == 409 and "has already answered this check-in" in refused.text


def test_sent_again_in_the_language_it_was_first_asked_in_and_undelivered_again(  # type: ignore[no-untyped-def]
        seeded, controlled_clock, twilio, settings, engine, app) -> None:
    case_id = undelivered_case(engine, settings, controlled_clock, twilio, address="+85512555778", language="km")
    with Session(engine) as s:  # the reporter's language changes afterwards: the check-in keeps its own
        reporter = s.get_one(Reporter, s.get_one(Report, case_id).reporter_id)
        reporter.language = "pt"
        s.add(reporter)
        s.commit()
    checkin = seven_day(engine, case_id)
    supervisor = bearer(app, SUPERVISOR)
    url = f"/api/v1/cases/{case_id}/retaliation/{checkin.id}/send-again"
    twilio.refuse_to.add("+85512555778")
    first = app.post(url, json={"after": 0}, headers=supervisor)
    assert first.status_code == 200 and first.json()["created"] is True, first.text
    repeat = app.post(url, json={"after": 0}, headers=supervisor)
    assert repeat.json() == {**first.json(), "created": False}
    worker = Worker(engine, settings)
    worker.run("deliver")
    assert len(checkins_to(twilio, "+85512555778", CHECKIN_KM)) == 2, "in Khmer both times"
    assert worker.run("retaliation")["retaliation_undelivered"] == 1, "the one sent again did not arrive either"
    assert seven_day(engine, case_id).status == "undelivered"
    assert sign_in(app, SUPERVISOR).status_code == 303
    page = app.get(f"/cases/{case_id}").text
    card = page[page.index('id="checkin-undelivered"'):page.index('<div class="grid">')]
    assert "it is not sent again automatically" in card and f"by {SUPERVISOR}" in card
    _action, fields = press(app, case_id)
    assert fields["after"] == "1", "the next press is the second time"
    twilio.refuse_to.discard("+85512555778")
    second = app.post(url, json={"after": 1}, headers=supervisor)
    assert second.status_code == 200 and second.json()["created"] is True
    worker.run("deliver")
    assert len(checkins_to(twilio, "+85512555778", CHECKIN_KM)) == 3
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(AuditEvent)
                      .where(AuditEvent.action == "retaliation.send_again")).one() == 2


@pytest.mark.parametrize("situation", ["withdrawn", "stop", "no_consent", "answered", "not_undelivered",
                                       "not_the_handler"])
def test_refused_with_its_reason(situation, seeded, controlled_clock, twilio, settings, engine, app) -> None:  # type: ignore[no-untyped-def]
    case_id = undelivered_case(engine, settings, controlled_clock, twilio)
    checkin = seven_day(engine, case_id)
    expected = {
        "withdrawn": (409, "The reporter withdrew the report"),
        "stop": (409, "The reporter sent STOP"),
        "no_consent": (409, "did not agree to be contacted"),
        "answered": (409, "has already answered this check-in"),
        "not_undelivered": (409, "Only a check-in that did not reach the reporter can be sent again"),
        "not_the_handler": (403, "Only the case's handler, a supervisor or an administrator"),
    }[situation]
    user = OTHER if situation == "not_the_handler" else HANDLER
    assert sign_in(app, HANDLER).status_code == 303
    _action, fields = press(app, case_id)  # the page as it was before things changed
    with Session(engine) as s:
        report = s.get_one(Report, case_id)
        row = s.get_one(RetaliationCheckin, checkin.id)
        if situation == "withdrawn":
            from service.intake.withdrawal import withdraw
            withdraw(s, report)
        elif situation == "stop":
            s.commit()
            receive(s, InboundMessage(channel="sms", external_id="SMstop", address=PHONE, text="STOP"))
        elif situation == "no_consent":
            report.consent_followup = False
            s.add(report)
        elif situation == "answered":
            row.status, row.answer = "answered", "no"
        elif situation == "not_undelivered":
            row.status = "sent"
        s.add(row)
        s.commit()
    headers = bearer(app, user)
    api = app.post(f"/api/v1/cases/{case_id}/retaliation/{checkin.id}/send-again", json={"after": 0}, headers=headers)
    assert (api.status_code, expected[1] in api.json()["detail"]) == (expected[0], True), api.text
    assert sign_in(app, user).status_code == 303
    web = app.post(f"/cases/{case_id}/retaliation/{checkin.id}/send-again",
                   data={"after": "0", "csrf_token": csrf_of(app.get(f"/cases/{case_id}").text)},
                   follow_redirects=False)
    assert web.status_code in (403, 409) and expected[1] in web.text.replace("&#39;", "'"), web.text[:500]
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(OutboundMessage)
                      .where(col(OutboundMessage.dedupe_key).like("retaliation-%-again-%"))).one() == 0
        assert s.exec(select(func.count()).select_from(AuditEvent)
                      .where(AuditEvent.action == "retaliation.send_again")).one() == 0
    assert fields["after"] == "0"


def test_two_presses_at_once_send_one_message(seeded, controlled_clock, twilio, settings, engine) -> None:  # type: ignore[no-untyped-def]
    """Two requests for the same press arrive together (two app processes): the check-in row is locked, so
    one sends and the other finds that message."""
    import threading

    from service.auth.principal import Principal
    from service.retaliation.service import send_again

    case_id = undelivered_case(engine, settings, controlled_clock, twilio)
    checkin = seven_day(engine, case_id)
    with Session(engine) as s:
        user = Principal.of(s.exec(select(User).where(User.email == HANDLER)).one())
    start, results, errors = threading.Barrier(2), [], []

    def press_once() -> None:
        start.wait()
        try:
            with Session(engine) as s:
                report = s.get_one(Report, case_id)
                message, created = send_again(s, user=user, report=report, checkin_id=checkin.id, after=0,  # type: ignore[arg-type]
                                              answer_days=14)
                s.commit()
                results.append((message.id, created))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(repr(exc))

    threads = [threading.Thread(target=press_once) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == [] and sorted(created for _, created in results) == [False, True], (results, errors)
    assert len({message_id for message_id, _ in results}) == 1
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(OutboundMessage)
                      .where(col(OutboundMessage.dedupe_key).like("retaliation-%-again-%"))).one() == 1
