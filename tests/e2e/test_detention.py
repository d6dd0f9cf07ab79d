"""Drug treatment and detention: an urgent Khmer SMS — a brother beaten and held in a compulsory
centre now. The worker routes it at once, before the place is known (KHANA, by the default rule,
whose people are alerted); when the reporter names the province the worker routes it again: the
legal-aid CSO's handler is alerted (KHANA's people are not alerted again), the case is in legal aid's
queue and no longer in KHANA's, it has been escalated at once to the provincial drug-control
committee (PDCC), and the handler's next escalation reaches NACD.

Driven only from outside: signed SMS to `serve`, `samleng worker` as its own process, the queues
through /api/v1 with a real login as each organisation's handler, the emails at the SMTP fake.
"""

from __future__ import annotations

from tests.support.e2e import Deployment, mail_text

REPORTER = "+85512000777"
# "Please help, brothers and sisters: my younger brother was beaten by the police and is held in the
#  drug rehabilitation centre right now, they won't let us see him"
STORY = "បងៗជួយផង ប្អូនប្រុសខ្ញុំត្រូវប៉ូលីសវាយ ហើយចាប់ឃុំនៅមណ្ឌលស្តារនីតិសម្បទាគ្រឿងញៀន ឥឡូវនេះ គេមិនឲ្យជួបទេ"
MARKER = "មណ្ឌលស្តារនីតិសម្បទា"
KHANA_PEOPLE = ("handler@khana.demo", "supervisor@khana.demo")
LEGAL_AID = "handler@legalaid.demo"
PDCC = "pdcc.bmc@drugs.example.org"
NACD = "complaints@nacd.example.org"


def _alerts(deployment: Deployment, address: str, case_id: int) -> list[str]:
    return [mail_text(m) for m in deployment.mail_to(address) if f"/cases/{case_id}" in mail_text(m)]


def test_urgent_detention_sms_reaches_legal_aid_and_climbs_to_pdcc_then_nacd(deployment: Deployment) -> None:
    deployment.load_demo()
    deployment.start_serve()
    deployment.start_worker()
    phone = deployment.phone(REPORTER)
    assert phone.text(STORY)

    khana = deployment.handler("handler@khana.demo")
    case = deployment.wait(lambda: khana.find_case(MARKER), "the urgent case routed at once (before the place)")
    case_id = case["id"]
    assert case["urgency"] == "urgent"
    for person in KHANA_PEOPLE:
        deployment.wait(lambda p=person: _alerts(deployment, p, case_id), f"the urgent alert to {person}")

    for answer in ("4", "បន្ទាយមានជ័យ", "ទេ"):  # rights; Banteay Meanchey; no follow-up
        assert phone.text(answer)

    legal = deployment.handler(LEGAL_AID)
    deployment.wait(lambda: legal.find_case(MARKER), "the case in legal aid's queue")
    deployment.wait(lambda: _alerts(deployment, LEGAL_AID, case_id), "the urgent alert to legal aid's handler")
    deployment.wait(lambda: deployment.mail_to(PDCC), "the PDCC's email (escalated at once)")
    state = legal.get(f"/api/v1/cases/{case_id}/escalation")
    assert state["rule"] == "detention-urgent" and state["current"]["body"] == "bmc-pdcc", state
    assert [r["body"] for r in state["ladder"]] == ["bmc-pdcc", "nacd"]
    detail = legal.get(f"/api/v1/cases/{case_id}")
    assert detail["population"] == "people_who_use_drugs" and detail["status"] == "escalated", detail

    # KHANA no longer holds it, and its people were alerted once, not again.
    assert deployment.client.get(f"/api/v1/cases/{case_id}", headers=khana.headers).status_code == 404
    assert khana.find_case(MARKER) is None
    for person in KHANA_PEOPLE:
        assert len(_alerts(deployment, person, case_id)) == 1

    nxt = legal.post(f"/api/v1/cases/{case_id}/escalate", {"after": state["current"]["id"]})["escalation"]
    assert nxt["body"] == "nacd"
    deployment.wait(lambda: deployment.mail_to(NACD), "NACD's email")
    assert "Traceback" not in deployment.logs(), deployment.logs()
