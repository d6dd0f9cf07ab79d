"""Documentation codes across real processes: an SMS rights report into `samleng serve`; `samleng worker`
triages it and suggests the perpetrator and violation types with their words; a handler sets them
through /api/v1, audited and on the timeline."""

from __future__ import annotations

from tests.support.e2e import Deployment

REPORTER = "+85512000777"
MARKER = "footbridge"  # a word only this report contains


def test_codes_are_suggested_by_the_worker_and_set_by_a_handler(deployment: Deployment) -> None:
    deployment.load_demo()
    deployment.start_serve()
    deployment.start_worker()
    phone = deployment.phone(REPORTER)
    for answer in (f"Yesterday the police arrested me near the {MARKER} at Chrey and took my condoms",
                   "4", "Chrey", "YES"):
        assert phone.text(answer)

    # A police arrest is a rights violation: routed to the legal-aid organisation's queue.
    handler = deployment.handler("handler@legalaid.demo")
    case = deployment.wait(lambda: handler.find_case(MARKER), "the case in legal aid's queue")
    path = f"/api/v1/cases/{case['id']}"
    detail = deployment.wait(lambda: (d := handler.get(path))["violation_type"] and d, "the worker's suggestion")
    assert detail["category"] == "human_rights_violation"
    assert (detail["perpetrator_type"], detail["perpetrator_source"]) == ("police", "triage")
    assert (detail["violation_type"], detail["violation_source"]) == ("arbitrary_detention", "triage")
    assert [i["actor"] for i in detail["timeline"] if i["kind"] == "codes"][:1] == ["triage"]

    handler.post(f"{path}/codes", {"violation_type": "confiscation"})
    detail = handler.get(path)
    assert (detail["perpetrator_type"], detail["perpetrator_source"]) == ("police", "triage"), "left out: kept"
    assert (detail["violation_type"], detail["violation_source"]) == ("confiscation", "handler")
    handler.post(f"{path}/codes", {"violation_type": "torture"}, expect=422)
    assert deployment.scalar("SELECT count(*) FROM audit_event WHERE action = 'case.codes_set'") == 1
    assert "Traceback" not in deployment.logs(), deployment.logs()
