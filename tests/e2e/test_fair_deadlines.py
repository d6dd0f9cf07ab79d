"""Fair deadlines as deployed: a body counting working time (configured with `samleng bodies load`), the
handler's question to the reporter pausing its clock, the reporter's SMS answer resuming it, and the
worker (`samleng worker --once`, its clock moved with SAMLENG_CLOCK_OFFSET) expiring the escalation only
at the resumed deadline. Real `serve` and `worker` processes, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import yaml

from service.bodies.service import DATA_FILE
from service.kit import workingtime
from tests.support.e2e import Deployment

REPORTER = "+85512000919"
MARKER = "sundial"  # a word only this report contains
HOURS = "mon-fri 08:00-17:00"


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


def offset_to(when: datetime) -> str:
    """The SAMLENG_CLOCK_OFFSET that puts a process's clock at `when` (give or take the seconds it takes to start)."""
    return f"+{max(0, int((when - datetime.now(timezone.utc)).total_seconds()))}s"


def working_bodies_file(tmp: Path) -> Path:
    """The bundled bodies file with the Chrey HCMC answering in 16 working hours, Phnom Penh hours, KH holidays."""
    data = yaml.safe_load(DATA_FILE.read_text(encoding="utf-8"))
    for body in data["bodies"]:
        if body["slug"] == "chrey-hcmc":
            body.update(deadline_counting="working", deadline_hours=16, time_zone="Asia/Phnom_Penh",
                        working_hours=HOURS, holiday_country="KH")
    path = tmp / "bodies.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_a_paused_working_time_deadline_expires_only_at_its_resumed_time(deployment: Deployment, tmp_path: Path) -> None:
    deployment.load_demo()
    deployment.cli("bodies", "load", "--file", str(working_bodies_file(tmp_path)))
    deployment.start_serve()
    deployment.start_worker()
    phone = deployment.phone(REPORTER)
    for answer in (f"At Chrey health centre the staff asked me for 5000 riel before they would see me, {MARKER}",
                   "3", "Chrey", "yes"):
        phone.text(answer)
    handler = deployment.handler()
    case = deployment.wait(lambda: handler.find_case(MARKER), "the case in KHANA's queue")
    escalated = handler.post(f"/api/v1/cases/{case['id']}/escalate", {"after": 0})["escalation"]
    assert escalated["body"] == "chrey-hcmc" and escalated["counting"] == "working"
    calendar = workingtime.Calendar.of("Asia/Phnom_Penh", HOURS, "KH")
    due = parse(escalated["due_at"])
    assert abs(due - workingtime.add(parse(escalated["created_at"]), timedelta(hours=16), calendar)) < timedelta(seconds=5)
    assert deployment.stop_worker() in (0, -15)

    # The handler asks the reporter and waits: the clock pauses.
    handler.post(f"/api/v1/cases/{case['id']}/reply", {"text": "Which day did this happen?", "wait_for_answer": True})
    paused = handler.get(f"/api/v1/cases/{case['id']}/escalation")["current"]
    assert paused["paused_at"] is not None

    # A worker a day past the deadline (but within the reporter's two weeks) leaves it where it is.
    deployment.worker_once(SAMLENG_CLOCK_OFFSET=offset_to(due + timedelta(days=1)))
    current = handler.get(f"/api/v1/cases/{case['id']}/escalation")["current"]
    assert current["rung"] == 0 and current["status"] == "open" and current["paused_at"] is not None

    # The reporter answers by SMS (serve keeps real time): the answer joins the case, the clock runs again.
    assert "answer was added" in phone.text("It was on Tuesday morning")
    resumed = handler.get(f"/api/v1/cases/{case['id']}/escalation")["current"]
    assert resumed["paused_at"] is None
    new_due = parse(resumed["due_at"])
    assert new_due >= due  # the paused time was added
    kinds = [item["kind"] for item in handler.get(f"/api/v1/cases/{case['id']}")["timeline"]]
    assert {"clock_paused", "reporter_answer", "clock_resumed"} <= set(kinds), kinds

    # The worker expires it at the resumed deadline, and not before.
    deployment.worker_once(SAMLENG_CLOCK_OFFSET=offset_to(new_due - timedelta(minutes=30)))
    assert handler.get(f"/api/v1/cases/{case['id']}/escalation")["current"]["rung"] == 0
    deployment.worker_once(SAMLENG_CLOCK_OFFSET=offset_to(new_due + timedelta(minutes=30)))
    moved = handler.get(f"/api/v1/cases/{case['id']}/escalation")["current"]
    assert moved["rung"] == 1 and moved["body"] == "thmorkoul-od"
