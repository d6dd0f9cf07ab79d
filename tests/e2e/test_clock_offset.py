"""SAMLENG_CLOCK_OFFSET across processes: a body's deadline passes because the worker is restarted
with its clock moved past it, and the case climbs the ladder."""

from __future__ import annotations

from datetime import datetime

from tests.support.e2e import Deployment

REPORTER = "+85512000777"
MARKER = "fencepost"  # a word only this report contains
HCMC, OD = "hcmc.chrey@health.example.org", "od.thmorkoul@health.example.org"


def test_a_missed_deadline_moves_the_case_up_when_the_worker_runs_with_a_clock_offset(deployment: Deployment) -> None:
    deployment.load_demo()
    deployment.start_serve()
    deployment.start_worker()
    phone = deployment.phone(REPORTER)
    for answer in (f"At Chrey health centre the staff asked me for 5000 riel before they would see me, {MARKER}",
                   "3", "Chrey", "yes"):
        phone.text(answer)
    handler = deployment.handler()
    case = deployment.wait(lambda: handler.find_case(MARKER), "the case in KHANA's queue")
    escalated = handler.post(f"/api/v1/cases/{case['id']}/escalate", {"after": 0})["escalation"]
    assert escalated["body"] == "chrey-hcmc" and escalated["rung"] == 0
    deployment.wait(lambda: deployment.mail_to(HCMC), "the HCMC's email")
    assert not deployment.mail_to(OD)

    # The worker, restarted a day past the HCMC's deadline (serve keeps real time).
    due = datetime.fromisoformat(escalated["due_at"].replace("Z", "+00:00"))
    created = datetime.fromisoformat(escalated["created_at"].replace("Z", "+00:00"))
    hours = int((due - created).total_seconds() // 3600) + 24
    assert deployment.stop_worker() in (0, -15)
    worker = deployment.start_worker(SAMLENG_CLOCK_OFFSET=f"+{hours}h")
    deployment.wait(lambda: f"clock offset +{hours}h in effect" in worker.output(), "the offset in the worker's log")

    def climbed() -> dict | None:
        current = handler.get(f"/api/v1/cases/{case['id']}/escalation")["current"]
        return current if current and current["rung"] == 1 else None
    current = deployment.wait(climbed, "the case to move one rung up")
    assert current["body"] == "thmorkoul-od"
    deployment.wait(lambda: deployment.mail_to(OD), "the operational district's email")
    timeline = [item["kind"] for item in handler.get(f"/api/v1/cases/{case['id']}")["timeline"]]
    assert "escalated" in " ".join(timeline), timeline
