"""The retaliation watch as deployed: `serve` and `worker` as their own processes. A reporter at Chrey
health centre agrees to follow-up; the handler escalates the case; the worker, restarted with its clock
seven days on (SAMLENG_CLOCK_OFFSET), sends the check-in by SMS through Twilio's REST API (the fake);
the reporter answers "2" and an urgent case linked to the first appears in the legal-aid organisation's
queue, the link on both timelines, its handler alerted by email."""

from __future__ import annotations

import re
from typing import Any

from tests.support.e2e import DEMO_PASSWORD, Deployment, mail_text

REPORTER = "+85512000919"
MARKER = "gatepost"
CHECKIN = "has anyone treated you worse or threatened you? Reply 1 No, 2 Yes."
LEGAL_AID = "handler@legalaid.demo"


def test_a_checkin_at_7_days_and_the_answer_2_open_an_urgent_linked_case(deployment: Deployment) -> None:
    deployment.load_demo()
    deployment.start_serve()
    deployment.start_worker()
    phone = deployment.phone(REPORTER)
    for answer in (f"At Chrey health centre the staff asked me for 5000 riel before they would see me, {MARKER}",
                   "3", "Chrey", "yes"):
        phone.text(answer)
    khana = deployment.handler()
    case = deployment.wait(lambda: khana.find_case(MARKER), "the case in KHANA's queue")
    escalated = khana.post(f"/api/v1/cases/{case['id']}/escalate", {"after": 0})["escalation"]
    assert escalated["body"] == "chrey-hcmc"
    deployment.wait(lambda: deployment.scalar("SELECT count(*) FROM retaliation_checkin") == 2,
                    "the two check-ins scheduled")
    assert not any(CHECKIN in body for body in deployment.sms_to(REPORTER)), "not before seven days"

    assert deployment.stop_worker() in (0, -15)
    worker = deployment.start_worker(SAMLENG_CLOCK_OFFSET="+7d1h")
    deployment.wait(lambda: "clock offset +7d1h in effect" in worker.output(), "the offset in the worker's log")
    deployment.wait(lambda: [b for b in deployment.sms_to(REPORTER) if CHECKIN in b], "the check-in by SMS")
    assert deployment.scalar("SELECT count(*) FROM retaliation_checkin WHERE status = 'sent'") == 1

    reply = phone.text("2")
    assert reply.startswith("Thank you for telling us. We opened an urgent case"), reply
    legal = deployment.handler(LEGAL_AID)
    urgent = deployment.wait(lambda: legal.find_case(f"case {case['id']}"), "the urgent case in legal aid's queue")
    assert urgent["urgency"] == "urgent" and urgent["id"] != case["id"]
    first = [e for e in khana.get(f"/api/v1/cases/{case['id']}")["timeline"] if e["kind"] == "retaliation_answer"]
    assert first and first[0]["detail"]["case"] == urgent["id"], first
    linked = [e for e in legal.get(f"/api/v1/cases/{urgent['id']}")["timeline"] if e["kind"] == "retaliation_of"]
    assert linked and linked[0]["detail"]["case"] == case["id"], linked
    deployment.wait(lambda: [m for m in deployment.mail_to(LEGAL_AID) if f"/cases/{urgent['id']}" in mail_text(m)],
                    "the urgent alert to legal aid's handler")
    assert "Traceback" not in deployment.logs(), deployment.logs()


def test_a_checkin_twilio_refuses_is_marked_undelivered_for_the_handler_and_not_sent_again(
        deployment: Deployment) -> None:
    """Twilio refuses every message to the reporter's number (code 21610). At +7 days the worker's check-in
    goes to Twilio once, dies as a dead letter, and the watch's next pass marks it undelivered: on the
    case's timeline, never sent again, and the reporter's later "2" is not read as its answer."""
    reporter = "+85512000929"
    phone, khana, case = _escalated_case_of_a_refused_number(deployment, reporter, "lamppost")

    assert deployment.stop_worker() in (0, -15)
    worker = deployment.start_worker(SAMLENG_CLOCK_OFFSET="+7d1h")
    deployment.wait(lambda: "clock offset +7d1h in effect" in worker.output(), "the offset in the worker's log")
    deployment.wait(lambda: deployment.scalar(
        "SELECT count(*) FROM retaliation_checkin WHERE status = 'undelivered'") == 1, "the check-in undelivered")
    assert deployment.scalar("SELECT status FROM outbound_message WHERE dedupe_key LIKE 'retaliation-%'") == "dead"
    timeline = khana.get(f"/api/v1/cases/{case['id']}")["timeline"]
    undelivered = [e for e in timeline if e["kind"] == "retaliation_undelivered"]
    assert len(undelivered) == 1 and undelivered[0]["detail"] == {"day": 7, "channel": "sms"}, undelivered

    reply = phone.text("2")
    assert not reply.startswith("Thank you for telling us. We opened an urgent case"), reply
    tried = [form for method, path, form in list(deployment.twilio.requests)
             if method == "POST" and form.get("To") == reporter and CHECKIN in form.get("Body", "")]
    assert len(tried) == 1, "the refused check-in went to Twilio once and is not sent again"
    assert deployment.scalar("SELECT count(*) FROM retaliation_checkin WHERE followup_report_id IS NOT NULL") == 0
    assert "Traceback" not in deployment.logs(), deployment.logs()


def _web_sign_in(deployment: Deployment, email: str) -> dict[str, str]:
    """Sign in through the login form; returns the headers a browser would send (the cookies are Secure,
    __Host-: a browser sends them to http://127.0.0.1, httpx does not, so they are carried by hand)."""
    first = deployment.client.get("/")
    token = re.search(r'name="csrf_token" value="([^"]+)"', first.text).group(1)  # type: ignore[union-attr]
    jar = dict(first.cookies.items())
    cookie = "; ".join(f"{k}={v}" for k, v in jar.items())
    done = deployment.client.post("/login", data={"email": email, "password": DEMO_PASSWORD, "csrf_token": token},
                                  headers={"Origin": deployment.base_url, "Cookie": cookie}, follow_redirects=False)
    assert done.status_code == 303, done.text
    jar.update(done.cookies.items())
    return {"Origin": deployment.base_url, "Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())}


def test_an_undelivered_checkin_sent_again_from_the_case_page_arrives_once_and_its_2_opens_the_urgent_case(
        deployment: Deployment) -> None:
    """Twilio refuses the +7 day check-in (the fake answers 400) and the watch marks it undelivered. The
    reporter's phone works again; the case's handler presses "Send the check-in again" on the case page
    over real HTTP, and the browser submits the form twice. Twilio gets the check-in once more, once; the
    reporter answers "2" and the urgent case linked to the first opens in legal aid's queue."""
    reporter = "+85512000939"
    phone, khana, case = _escalated_case_of_a_refused_number(deployment, reporter, "signpost", claim=True)

    # A week on, for both processes (the development clock, docs/operations.md "Moving the clock").
    assert deployment.stop_worker() in (0, -15)
    assert deployment.stop_serve() in (0, -15)
    deployment.start_serve(SAMLENG_CLOCK_OFFSET="+7d1h")
    worker = deployment.start_worker(SAMLENG_CLOCK_OFFSET="+7d1h")
    deployment.wait(lambda: "clock offset +7d1h in effect" in worker.output(), "the offset in the worker's log")
    deployment.wait(lambda: deployment.scalar(
        "SELECT count(*) FROM retaliation_checkin WHERE status = 'undelivered'") == 1, "the check-in undelivered")
    assert not [f for f in list(deployment.twilio.created) if f.get("To") == reporter and CHECKIN in f.get("Body", "")]
    deployment.twilio.refuse_to.discard(reporter)

    web = _web_sign_in(deployment, "handler@khana.demo")
    page = deployment.client.get(f"/cases/{case['id']}", headers=web)
    assert page.status_code == 200 and 'id="checkin-undelivered"' in page.text, page.text[:2000]
    form = re.search(r'<form method="post" action="([^"]+)"[^>]*id="checkin-send-again">(.*?)</form>', page.text, re.S)
    assert form, page.text[page.text.find('id="checkin-undelivered"'):][:2000]
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form.group(2)))
    for _ in range(2):  # a double click: the same form twice
        pressed = deployment.client.post(form.group(1), data=fields, headers=web, follow_redirects=False)
        assert pressed.status_code == 303, pressed.text[:2000]

    def sent_again() -> list[dict[str, str]]:
        return [f for f in list(deployment.twilio.created) if f.get("To") == reporter and CHECKIN in f.get("Body", "")]

    deployment.wait(lambda: sent_again(), "the check-in sent again through Twilio")
    deployment.wait(lambda: deployment.scalar(
        "SELECT count(*) FROM outbound_message WHERE dedupe_key LIKE 'retaliation-%-again-%' AND status = 'sent'")
        == 1, "its outbox row sent")
    assert deployment.scalar("SELECT count(*) FROM outbound_message WHERE dedupe_key LIKE 'retaliation-%'") == 2
    assert deployment.scalar("SELECT count(*) FROM audit_event WHERE action = 'retaliation.send_again'") == 1
    assert deployment.scalar("SELECT status FROM retaliation_checkin WHERE day = 7") == "sent"
    card = deployment.client.get(f"/cases/{case['id']}", headers=web).text
    assert "was sent again and waits for its answer" in card and "by handler@khana.demo" in card

    reply = phone.text("2")
    assert reply.startswith("Thank you for telling us. We opened an urgent case"), reply
    assert len(sent_again()) == 1, "sent again once, for the two submissions"
    legal = deployment.handler(LEGAL_AID)
    urgent = deployment.wait(lambda: legal.find_case(f"case {case['id']}"), "the urgent case in legal aid's queue")
    assert urgent["urgency"] == "urgent" and urgent["id"] != case["id"]
    assert deployment.scalar("SELECT followup_report_id FROM retaliation_checkin WHERE day = 7") == urgent["id"]
    assert "Traceback" not in deployment.logs(), deployment.logs()


def _escalated_case_of_a_refused_number(deployment: Deployment, reporter: str, marker: str, *,
                                        claim: bool = False) -> tuple[Any, Any, dict]:
    """A reporter whose number Twilio refuses reports a fee at Chrey health centre with follow-up consent;
    KHANA's handler (claiming it first when `claim`) escalates it, which schedules the two check-ins."""
    deployment.twilio.refuse_to.add(reporter)
    deployment.load_demo()
    deployment.start_serve()
    deployment.start_worker()
    phone = deployment.phone(reporter)
    for answer in (f"At Chrey health centre the staff asked me for 5000 riel before they would see me, {marker}",
                   "3", "Chrey", "yes"):
        phone.text(answer)
    khana = deployment.handler()
    case = deployment.wait(lambda: khana.find_case(marker), "the case in KHANA's queue")
    if claim:
        khana.post(f"/api/v1/cases/{case['id']}/claim")  # the case's handler
    khana.post(f"/api/v1/cases/{case['id']}/escalate", {"after": 0})
    deployment.wait(lambda: deployment.scalar("SELECT count(*) FROM retaliation_checkin") == 2,
                    "the two check-ins scheduled")
    return phone, khana, case
