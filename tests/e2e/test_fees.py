"""Informal fees across real processes: an SMS report naming an amount into `samleng serve`; `samleng
worker` sends the fee question through (the fake) Twilio; the reporter confirms it; a handler sees and
corrects the amount through /api/v1, audited."""

from __future__ import annotations

from tests.support.e2e import Deployment

REPORTER = "+85512000888"
MARKER = "padlock"  # a word only this report contains


def test_an_amount_is_read_confirmed_by_the_reporter_and_corrected_by_a_handler(deployment: Deployment) -> None:
    deployment.load_demo()
    deployment.start_serve()
    deployment.start_worker()
    phone = deployment.phone(REPORTER)
    for answer in (f"At Chrey health centre the guard asked me for 20,000 riel to open the {MARKER}",
                   "3", "Chrey", "YES"):
        assert phone.text(answer)
    # the worker sends it after its pass: slow on a loaded machine
    question = deployment.wait(lambda: deployment.sms_to(REPORTER), "the fee question sent by the worker",
                               timeout=240)[0]
    assert question == "You mentioned paying 20,000 riel. Is that right? Reply 1 Yes or 2 No. 0 to skip."
    assert phone.text("1") == "Thank you. We noted 20,000 riel."

    handler = deployment.handler()
    case = deployment.wait(lambda: handler.find_case(MARKER), "the case in KHANA's queue")
    detail = deployment.wait(lambda: (d := handler.get(f"/api/v1/cases/{case['id']}"))["category"] and d,
                             "the worker's triage")
    assert (detail["fee_amount"], detail["fee_currency"], detail["fee_source"]) == ("20000", "KHR", "reporter")
    # The full triage, after the reporter's answer, keeps it.
    deployment.wait(lambda: deployment.scalar("SELECT status FROM report WHERE id = :i", i=case["id"]) != "received",
                    "the case triaged")
    assert deployment.scalar("SELECT fee_source FROM report WHERE id = :i", i=case["id"]) == "reporter"

    handler.post(f"/api/v1/cases/{case['id']}/fee", {"amount": "25000", "currency": "KHR"})
    detail = handler.get(f"/api/v1/cases/{case['id']}")
    assert (detail["fee_amount"], detail["fee_source"]) == ("25000", "handler")
    assert [item["detail"]["to"]["source"] for item in detail["timeline"] if item["kind"] == "fee"] == [
        "extracted", "reporter", "handler"]
    assert deployment.scalar("SELECT count(*) FROM audit_event WHERE action = 'case.fee_correct'") == 1
    assert "Traceback" not in deployment.logs(), deployment.logs()
