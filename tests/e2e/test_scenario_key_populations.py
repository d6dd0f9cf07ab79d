"""KHANA, key populations: a transgender woman refused care at Chrey health centre reports it on
Telegram (buttons, the place typed, consent yes). Triage finds stigma and the transgender population,
routing puts it in KHANA's queue and nobody else's, a handler escalates it, and the facility's body is
emailed a signed link. Nobody answers: as each deadline passes it climbs to the HCMC, the operational
district and the provincial health department, each time telling the body it leaves, and the reporter
hears on Telegram at each stage; /status follows along.

Driven only from outside: real Telegram update JSON with the webhook secret, the handler's actions
through /api/v1 with a real login, SAMLENG_CLOCK_OFFSET on the worker to let deadlines pass.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timezone

from tests.support.e2e import Deployment

STORY = ("I am a transgender woman. At Chrey health centre the nurse refused to treat me and told me to leave "
         "because I am trans, in front of everyone in the waiting room")
MARKER = "waiting room"
BODY_EMAIL = {"chrey-hc": "chief.chrey-hc@health.example.org", "chrey-hcmc": "hcmc.chrey@health.example.org",
              "thmorkoul-od": "od.thmorkoul@health.example.org", "battambang-phd": "phd.battambang@health.example.org"}
LADDER = ["chrey-hc", "chrey-hcmc", "thmorkoul-od", "battambang-phd"]


def _when(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_transgender_woman_refused_care_climbs_the_whole_ladder(deployment: Deployment) -> None:
    deployment.load_demo()
    deployment.start_serve()
    deployment.start_worker()
    tg = deployment.telegram_user(user_id=7_100_200_300, first_name="Srey", username="srey_tg")
    chat = tg.user_id

    def sent() -> list[str]:
        return deployment.telegram_to(chat)

    def step(action, what: str) -> str:  # type: ignore[no-untyped-def]
        before = len(sent())
        action()
        return deployment.wait(lambda: len(sent()) > before and sent()[-1], f"the bot's answer to {what}")

    step(lambda: tg.send("/start"), "/start")
    assert "What is it about" in step(lambda: tg.send(STORY), "the story")
    assert "Where did it happen" in step(lambda: tg.press("Stigma or discrimination"), "the category button")
    assert "May we contact you" in step(lambda: tg.send("Chrey health centre"), "the typed place")
    step(lambda: tg.press("Yes"), "consent")
    deployment.wait(lambda: any(re.search(r"\b[0-9A-Z]{4}-[0-9A-Z]{4}\b", t) for t in sent()), "the receipt code")
    code = next(m.group(0) for t in reversed(sent()) if (m := re.search(r"\b[0-9A-Z]{4}-[0-9A-Z]{4}\b", t)))

    # Triage and routing (worker): stigma, transgender, KHANA's queue and nobody else's.
    khana = deployment.handler()
    case = deployment.wait(lambda: (c := khana.find_case(MARKER)) and c["population"] and c, "the case in KHANA's queue")
    case_id = case["id"]
    assert case["category"] == "stigma_discrimination", case
    assert case["population"] == "transgender", case
    assert case["place_name"] == "Chrey Health Centre", case
    for other in ("handler@legalaid.demo", "handler@exminers.demo"):
        assert deployment.handler(other).find_case(MARKER) is None, f"{other} sees KHANA's case"
    state = khana.get(f"/api/v1/cases/{case_id}/escalation")
    assert [rung["body"] for rung in state["ladder"]][:4] == LADDER, state

    assert "received, waiting for review" in deployment.status_page(code)
    # The handler escalates: the facility's body is emailed a signed link; the reporter hears.
    heard = len(sent())
    escalation = khana.post(f"/api/v1/cases/{case_id}/escalate", {"after": 0})["escalation"]
    assert escalation["body"] == "chrey-hc"
    deployment.wait(lambda: deployment.mail_to(BODY_EMAIL["chrey-hc"]) and deployment.respond_link(BODY_EMAIL["chrey-hc"]),
                    "the facility's email with its signed link")
    deployment.wait(lambda: len(sent()) > heard, "the reporter told on Telegram of the escalation")
    assert "sent to the authority responsible" in sent()[-1], sent()[heard:]
    assert "sent to the responsible authority" in deployment.status_page(code)

    # Nobody answers: each deadline passes (the worker restarted with its clock past it) and the case climbs.
    for rung, (previous, body) in enumerate(zip(LADDER, LADDER[1:]), start=1):
        hours = math.ceil((_when(escalation["due_at"]) - datetime.now(timezone.utc)).total_seconds() / 3600) + 1
        heard = len(sent())
        told_before = len(deployment.mail_to(BODY_EMAIL[previous]))
        deployment.restart_worker(SAMLENG_CLOCK_OFFSET=f"+{hours}h")

        def moved(rung: int = rung) -> dict | None:
            current = khana.get(f"/api/v1/cases/{case_id}/escalation")["current"]
            return current if current and current["rung"] == rung else None
        escalation = deployment.wait(moved, f"the case to climb to rung {rung}")
        assert escalation["body"] == body, escalation
        deployment.wait(lambda body=body: deployment.mail_to(BODY_EMAIL[body]), f"{body}'s email")
        assert deployment.respond_link(BODY_EMAIL[body])
        deployment.wait(lambda p=previous, n=told_before: len(deployment.mail_to(BODY_EMAIL[p])) > n,
                        f"{previous} told the case moved on")
        # The clock moved days ahead, so the retaliation check-in (+7 and +30 days) may arrive beside it.
        deployment.wait(lambda h=heard: any("passed on to the next authority" in t for t in sent()[h:]),
                        f"the reporter told on Telegram at rung {rung}")

    # Each check-in went out once, however often the worker restarted with its clock moved on.
    checkins = [t for t in sent() if "has anyone treated you worse" in t]
    assert len(checkins) <= 2, checkins

    # /status follows, on Telegram and on the public page.
    before = len(sent())
    tg.send(f"/status {code}")
    answer = deployment.wait(lambda: next((t for t in sent()[before:] if code in t), None), "the bot's answer to /status")
    assert code in answer and "sent to the responsible authority" in answer, answer
    page = deployment.status_page(code)
    assert code in page and "sent to the responsible authority" in page, page
    timeline = [item["kind"] for item in khana.get(f"/api/v1/cases/{case_id}")["timeline"]]
    assert timeline.count("deadline_missed") == 3, timeline
