"""A dossier escalated as one case and answered, as deployed (serve and worker as separate processes):
three reporters text the same problem at Chrey health centre and agree to hear back; the worker triages and
routes their reports to KHANA's queue; KHANA's supervisor builds a dossier of the three cases through the API
and sends it to NCHADS (a national body); NCHADS follows its email's signed link, sees the dossier's
suppressed contents (no narrative, no number) and answers "action taken"; then each linked case's timeline
shows the answer and each consenting reporter gets exactly one SMS about the joint complaint; the supervisor
closes the dossier and each linked case says why. A second dossier of the same cases goes to the Cambodian
Human Rights Committee, which lets its deadline pass: a worker whose clock is past it (SAMLENG_CLOCK_OFFSET)
sends the dossier on to AICHR, the regional body of its network, and tells the committee."""

from __future__ import annotations

from datetime import datetime, timezone

from tests.support.e2e import Deployment, mail_text

NCHADS = "grievances@nchads.example.org"
CHRC = "complaints@chrc.example.org"
AICHR = "secretariat@aichr.example.org"
SUPERVISOR = "supervisor@khana.demo"
LONG = 360.0  # seconds: polls that wait for the worker on a loaded machine
PHONES = ("+85512777301", "+85512777302", "+85512777303")
MARKERS = ("dossieralpha", "dossierbravo", "dossiercharlie")  # letters only: digits are masked


def test_a_dossier_escalated_and_answered_with_its_linked_cases_updated(deployment: Deployment) -> None:
    deployment.cli("demo", "--history", "0", timeout=LONG)
    deployment.start_serve()
    deployment.start_worker()

    # Three consenting reporters text the same problem; the worker triages and routes each to KHANA.
    handler = deployment.handler()
    cases = []
    for number, marker in zip(PHONES, MARKERS, strict=True):
        phone = deployment.phone(number)
        for answer in (f"No ARV medicine at Chrey health centre again this month {marker}, call 012 345 678",
                       "1", "Chrey", "yes"):
            phone.text(answer)
        cases.append(deployment.wait(lambda m=marker: handler.find_case(m), f"case {marker} in KHANA's queue",
                                     timeout=LONG))
    ids = sorted(c["id"] for c in cases)

    # The supervisor builds the dossier and sends it to a national body.
    supervisor = deployment.handler(SUPERVISOR)
    made = supervisor.post("/api/v1/dossiers", {"title": "ARV stock-outs at Chrey", "case_ids": ids}, expect=201)
    assert made["case_ids"] == ids and made["status"] == "draft"
    sent = supervisor.post(f"/api/v1/dossiers/{made['id']}/escalate", {"body": "nchads"}, expect=201)
    assert sent["status"] == "open" and sent["due_at"]
    assert supervisor.get(f"/api/v1/dossiers/{made['id']}")["status"] == "escalated"

    # The worker emails the body; its link opens the dossier's page: suppressed counts, no identifier.
    deployment.wait(lambda: deployment.mail_to(NCHADS), "the body's email", timeout=LONG)
    (mail,) = deployment.mail_to(NCHADS)
    text = mail_text(mail)
    assert "Joint complaint" in mail["Subject"] and "ARV stock-outs at Chrey" in text and "<" in text
    for marker in MARKERS:
        assert marker not in text
    assert "012 345 678" not in text and "+855" not in text
    link = deployment.respond_link(NCHADS)
    page = deployment.client.get(link)
    assert page.status_code == 200 and 'id="dossier-title"' in page.text and "&lt;" in page.text
    assert not any(marker in page.text for marker in MARKERS) and "012 345 678" not in page.text
    answered = deployment.answer_as_body(link, action="action_taken", text="Stock sent to the district")
    assert answered.status_code == 200, answered.text
    assert supervisor.get(f"/api/v1/dossiers/{made['id']}")["status"] == "answered"

    # Each linked case's timeline shows the dossier sent and answered; the cases keep their own status.
    for case_id in ids:
        timeline = handler.get(f"/api/v1/cases/{case_id}")["timeline"]
        kinds = [item["kind"] for item in timeline]
        assert {"dossier_linked", "dossier_escalated", "dossier_response"} <= set(kinds), kinds
        (response,) = [item for item in timeline if item["kind"] == "dossier_response"]
        assert response["detail"]["action"] == "action_taken" and response["actor"] == "body:nchads"
        assert response["detail"]["text"] == "Stock sent to the district"

    # Each consenting reporter hears once, delivered by the worker through Twilio's REST API.
    def joint(number: str) -> list[str]:
        return [body for body in deployment.sms_to(number) if "joint complaint" in body]

    deployment.wait(lambda: all(joint(n) for n in PHONES), "one SMS to each reporter", timeout=LONG)
    deployment.stop_worker()
    deployment.worker_once()  # one more pass delivers nothing twice
    assert [len(joint(n)) for n in PHONES] == [1, 1, 1]
    assert deployment.scalar(
        "SELECT count(*) FROM escalation WHERE dossier_id IS NOT NULL AND report_id IS NULL AND status = 'responded'"
    ) == 1

    # The supervisor closes the dossier: each linked case's timeline says why, and it is not sent again.
    closed = supervisor.post(f"/api/v1/dossiers/{made['id']}/close", {"reason": "Stock delivered at Chrey"})
    assert closed["status"] == "closed" and closed["closed_reason"] == "Stock delivered at Chrey"
    refused = supervisor.post(f"/api/v1/dossiers/{made['id']}/escalate", {"body": "cenat"}, expect=409)
    assert "closed" in str(refused)
    for case_id in ids:
        timeline = handler.get(f"/api/v1/cases/{case_id}")["timeline"]
        (event,) = [item for item in timeline if item["kind"] == "dossier_closed"]
        assert event["detail"]["reason"] == "Stock delivered at Chrey" and event["actor"] == SUPERVISOR

    # A second dossier of the same cases to a national body that never answers: past its deadline, the worker
    # sends it one rung up (the regional body of its network) and tells the national body it has left it.
    second = supervisor.post("/api/v1/dossiers", {"title": "Police at Chrey", "case_ids": ids}, expect=201)
    waiting = supervisor.post(f"/api/v1/dossiers/{second['id']}/escalate", {"body": "kh-chrc"}, expect=201)
    due = datetime.fromisoformat(waiting["due_at"].replace("Z", "+00:00"))
    past = f"+{int((due - datetime.now(timezone.utc)).total_seconds()) + 3600}s"
    for _ in range(2):  # the climb, then the deliveries it queued
        deployment.worker_once(SAMLENG_CLOCK_OFFSET=past)
    (moved,) = [m for m in deployment.mail_to(CHRC) if "ត្រូវបានបញ្ជូនទៅ" in str(m["Subject"])]  # in Khmer
    assert "គណៈកម្មការអន្តររដ្ឋាភិបាលអាស៊ាន" in str(moved["Subject"]) and len(deployment.mail_to(CHRC)) == 2
    (regional,) = deployment.mail_to(AICHR)
    assert "Joint complaint" in regional["Subject"] and "Police at Chrey" in mail_text(regional)
    assert deployment.respond_link(AICHR) != deployment.respond_link(CHRC)
    assert supervisor.get(f"/api/v1/dossiers/{second['id']}")["status"] == "escalated"
    for case_id in ids:
        timeline = handler.get(f"/api/v1/cases/{case_id}")["timeline"]
        (missed,) = [item for item in timeline if item["kind"] == "dossier_deadline_missed"]
        assert missed["detail"]["body"] == "kh-chrc"
        (climbed,) = [item for item in timeline
                      if item["kind"] == "dossier_escalated" and item["detail"]["body"] == "aichr"]
        assert climbed["actor"] == "deadline" and climbed["detail"]["dossier"] == second["id"]
