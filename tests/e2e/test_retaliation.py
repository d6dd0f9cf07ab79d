"""The retaliation watch as deployed: `serve` and `worker` as their own processes. A reporter at Chrey
health centre agrees to follow-up; the handler escalates the case; the worker, restarted with its clock
seven days on (SAMLENG_CLOCK_OFFSET), sends the check-in by SMS through Twilio's REST API (the fake);
the reporter answers "2" and an urgent case linked to the first appears in the legal-aid organisation's
queue, the link on both timelines, its handler alerted by email."""

from __future__ import annotations

from tests.support.e2e import Deployment, mail_text

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
    reporter, marker = "+85512000929", "lamppost"
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
    khana.post(f"/api/v1/cases/{case['id']}/escalate", {"after": 0})
    deployment.wait(lambda: deployment.scalar("SELECT count(*) FROM retaliation_checkin") == 2,
                    "the two check-ins scheduled")

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
