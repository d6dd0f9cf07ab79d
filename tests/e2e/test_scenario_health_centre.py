"""Chrey health centre, community participation: a Khmer SMS about an informal fee, escalated to
the health centre management committee (HCMC), answered through its signed link; the reporter hears
in Khmer at each step, the case is closed and the satisfaction question is asked and answered in Khmer.

Driven only from outside: signed SMS to `serve`, the handler's actions through /api/v1 with a real
login, the HCMC's answer through the page its email links to; Twilio and SMTP are fakes at the edge.
"""

from __future__ import annotations

from tests.support.e2e import Deployment, is_khmer

REPORTER = "+85512000888"
HCMC = "hcmc.chrey@health.example.org"
# "At Chrey health centre, staff asked me for 5000 riel off the books before examining me; they
# said it was for the concrete fence."
STORY = "នៅមណ្ឌលសុខភាពជ្រៃ បុគ្គលិកសុំលុយ ៥០០០ រៀល ក្រៅផ្លូវការ មុនពេលពិនិត្យ ពួកគេថាសម្រាប់របងបេតុង"
MARKER = "របងបេតុង"


def test_khmer_sms_fee_at_chrey_is_answered_by_the_hcmc_and_closed_in_khmer(deployment: Deployment) -> None:
    deployment.load_demo()
    deployment.start_serve()
    deployment.start_worker()
    phone = deployment.phone(REPORTER)
    for answer in (STORY, "3", "ជ្រៃ", "បាទ"):
        reply = phone.text(answer)
        assert is_khmer(reply), f"{answer!r} was answered in another language: {reply!r}"

    # A report about fees: the worker sends the amount read from the words, to confirm (in Khmer).
    fee_question = deployment.wait(lambda: deployment.sms_to(REPORTER), "the fee question")[0]
    assert is_khmer(fee_question) and "5,000" in fee_question, fee_question
    assert is_khmer(phone.text("1"))

    handler = deployment.handler()
    case = deployment.wait(lambda: handler.find_case(MARKER), "the case in KHANA's queue")
    case_id = case["id"]
    deployment.wait(lambda: handler.get(f"/api/v1/cases/{case_id}")["category"] == "financial_hardship",
                    "triage: fees or money")
    state = handler.get(f"/api/v1/cases/{case_id}/escalation")
    assert state["ladder"] and state["ladder"][0]["body"] == "chrey-hcmc", state

    escalated = handler.post(f"/api/v1/cases/{case_id}/escalate", {"after": 0})["escalation"]
    assert escalated["body"] == "chrey-hcmc"
    link = deployment.wait(lambda: deployment.mail_to(HCMC) and deployment.respond_link(HCMC), "the HCMC's email")
    told = deployment.wait(lambda: deployment.sms_to(REPORTER)[1:], "the reporter told the case was escalated")
    assert all(is_khmer(text) for text in told), told

    # The HCMC answers through its signed link: action taken.
    answered = deployment.answer_as_body(link, action="action_taken",
                                         text="The committee met the chief; the fee was returned and stopped.")
    assert answered.status_code == 200, answered.text
    deployment.wait(lambda: len(deployment.sms_to(REPORTER)) >= 3, "the reporter told the HCMC answered")
    assert is_khmer(deployment.sms_to(REPORTER)[2]), deployment.sms_to(REPORTER)
    assert handler.get(f"/api/v1/cases/{case_id}")["status"] == "responded"

    handler.post(f"/api/v1/cases/{case_id}/close")
    deployment.wait(lambda: len(deployment.sms_to(REPORTER)) >= 4, "the closing message with the satisfaction question")
    closing = deployment.sms_to(REPORTER)[3]
    assert is_khmer(closing) and "1" in closing and "3" in closing, closing

    thanks = phone.text("1")
    timeline = handler.get(f"/api/v1/cases/{case_id}")["timeline"]
    satisfaction = [item for item in timeline if item["kind"] == "satisfaction"]
    assert satisfaction and satisfaction[-1]["detail"]["answer"] == "yes", timeline
    assert handler.get(f"/api/v1/cases/{case_id}")["status"] == "closed"
    # The Khmer texts tell the reporter to answer 1, 2 or 3: the thanks must be in Khmer too.
    assert is_khmer(thanks), f"the satisfaction answer '1' was thanked in another language: {thanks!r}"
