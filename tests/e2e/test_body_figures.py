"""Grievance bodies held to account, as deployed: five reports by SMS reach KHANA's queue, the handler
escalates them to the Chrey health centre's committee, the committee answers "not ours" to all five
after the deadline (serve restarted with SAMLENG_CLOCK_OFFSET past it), and then:

* the public page, Open311's bodies resource and the committee's own response page show
  "0% on time (0 of 5)" and "100% not ours (5 of 5)" (threshold 5 here, the lowest allowed);
* KHANA's supervisor, who set an alert line of 60% on the dashboard, gets one email about the
  committee from the worker, and no second one on the worker's next passes.
"""

from __future__ import annotations

import re
from datetime import datetime

from tests.support.e2e import Deployment, mail_text

THRESHOLD = {"SAMLENG_SUPPRESSION_THRESHOLD": "5"}
HCMC = "hcmc.chrey@health.example.org"
SUPERVISOR = "supervisor@khana.demo"
DEMO_PASSWORD = "samleng-demo-password"
LONG = 360.0  # seconds: polls that wait for the worker on a loaded machine


def _web_sign_in(deployment: Deployment, email: str) -> dict[str, str]:
    """Sign in through the login form; returns the Cookie header (the cookies are Secure, __Host-: a
    browser sends them to http://127.0.0.1, httpx does not, so they are carried by hand)."""
    client = deployment.client
    first = client.get("/")
    token = re.search(r'name="csrf_token" value="([^"]+)"', first.text).group(1)  # type: ignore[union-attr]
    jar = dict(first.cookies.items())
    done = client.post("/login", data={"email": email, "password": DEMO_PASSWORD, "csrf_token": token},
                       headers={"Origin": deployment.base_url, "Cookie": _cookie(jar)}, follow_redirects=False)
    assert done.status_code == 303, done.text
    jar.update(done.cookies.items())
    return {"Origin": deployment.base_url, "Cookie": _cookie(jar)}


def _cookie(jar: dict[str, str]) -> str:
    return "; ".join(f"{k}={v}" for k, v in jar.items())


def test_a_body_answering_late_and_not_ours_is_published_and_alerts_the_supervisor_once(
        deployment: Deployment) -> None:
    deployment.cli("demo", "--history", "0", timeout=LONG)  # as load_demo, with room for a loaded machine
    deployment.start_serve(**THRESHOLD)
    deployment.start_worker(**THRESHOLD)

    # KHANA's supervisor sets the alert line on the dashboard.
    web = _web_sign_in(deployment, SUPERVISOR)
    dashboard = deployment.client.get("/dashboard", headers=web)
    assert dashboard.status_code == 200 and 'id="body-alert"' in dashboard.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', dashboard.text).group(1)  # type: ignore[union-attr]
    saved = deployment.client.post("/dashboard/body-alert", data={"below": "60", "csrf_token": token}, headers=web,
                                   follow_redirects=False)
    assert saved.status_code == 303, saved.text

    # Five reports by SMS; the handler escalates each to the health centre's committee.
    handler = deployment.handler()
    escalated = []
    for i in range(5):
        marker = "bodyfig" + ("alpha", "bravo", "charlie", "delta", "echo")[i]  # letters only: digits are masked
        phone = deployment.phone(f"+8551277700{i}")
        for answer in (f"At Chrey health centre they asked me for 5000 riel before seeing me {marker}", "3", "Chrey",
                       "yes"):
            phone.text(answer)
        # Generous: the worker's first pass loads the triage model, slow on a loaded machine.
        case = deployment.wait(lambda m=marker: handler.find_case(m), f"case {i} in KHANA's queue", timeout=LONG)
        escalated.append(handler.post(f"/api/v1/cases/{case['id']}/escalate", {"after": 0})["escalation"])
    assert {e["body"] for e in escalated} == {"chrey-hcmc"}
    deployment.wait(lambda: len(deployment.mail_to(HCMC)) >= 5, "the committee's five emails", timeout=LONG)
    links = [deployment.respond_link(HCMC, index=i) for i in range(5)]

    # The committee answers "not ours", a day after each deadline: serve runs with its clock moved on.
    due = datetime.fromisoformat(escalated[-1]["due_at"].replace("Z", "+00:00"))
    created = datetime.fromisoformat(escalated[0]["created_at"].replace("Z", "+00:00"))
    hours = int((due - created).total_seconds() // 3600) + 24
    deployment.stop_serve()
    deployment.start_serve(SAMLENG_CLOCK_OFFSET=f"+{hours}h", **THRESHOLD)
    for link in links:
        answered = deployment.answer_as_body(link, action="not_ours")
        assert answered.status_code == 200, answered.text

    # Published: Open311's bodies resource, the public page, the committee's own page (in Khmer, its language).
    record = next(r for r in deployment.client.get("/open311/v2/bodies.json").json() if r["body"] == "chrey-hcmc")
    assert record["escalations"] == "5" and record["on_time"] == "0" and record["on_time_total"] == "5"
    assert record["on_time_share"] == 0 and record["not_ours_share"] == 100 and record["not_ours_total"] == "5"
    public = deployment.client.get("/public").text
    assert "0% on time (0 of 5)" in public and "100% not ours (5 of 5)" in public
    # Southern-African readers: the same figures in Portuguese, on the page and through Open311.
    publico = deployment.client.get("/public", params={"lang": "pt"})
    assert publico.status_code == 200 and "0% a tempo (0 de 5)" in publico.text
    assert "100% não é connosco (5 de 5)" in publico.text
    registo = next(r for r in deployment.client.get("/open311/v2/bodies.json", params={"lang": "pt"}).json()
                   if r["body"] == "chrey-hcmc")
    assert {k: registo[k] for k in ("escalations", "on_time_share", "not_ours_share")} == {
        "escalations": "5", "on_time_share": 0, "not_ours_share": 100}
    assert deployment.client.get("/public", params={"lang": "fr"}).status_code == 422
    page = deployment.client.get(links[0]).text
    figures = page[page.index('id="body-figures"'):]
    assert "5" in figures and "100%" in figures and "តួលេខដែលបានផ្សព្វផ្សាយ" in page
    assert "100% not ours (5 of 5)" in deployment.client.get(links[0] + "?lang=en").text

    # The worker's check (at its start, then once a minute) finds the committee at 0% < 60%: one email.
    deployment.restart_worker(**THRESHOLD)
    deployment.wait(lambda: [m for m in deployment.mail_to(SUPERVISOR) if "0 of 5" in mail_text(m)],
                    "the supervisor's body alert", timeout=LONG)
    (text,) = [mail_text(m) for m in deployment.mail_to(SUPERVISOR) if "0 of 5" in mail_text(m)]
    assert "60%" in text and "/dashboard" in text
    # No repeat: two more passes of the worker (each runs the check at its start) queue nothing more.
    deployment.stop_worker()
    for _ in range(2):
        deployment.worker_once(**THRESHOLD)
    assert deployment.scalar("SELECT count(*) FROM outbound_message WHERE dedupe_key LIKE 'body-alert:%'") == 1
    assert deployment.scalar("SELECT count(*) FROM body_alert WHERE below") == 1
    assert len([m for m in deployment.mail_to(SUPERVISOR) if "0 of 5" in mail_text(m)]) == 1

    # The five reports named 5000 riel: the dashboard's fee figures say their currency, in the reader's
    # language, and the export's money columns name it.
    deployment.wait(lambda: deployment.scalar("SELECT count(*) FROM report WHERE fee_currency = 'KHR' AND "
                                              "narrative_masked LIKE '%bodyfig%'") == 5, "the five amounts read")
    web = _web_sign_in(deployment, SUPERVISOR)
    for lang, riel in (("en", "riel"), ("pt", "riéis"), ("km", "រៀល")):
        dashboard = deployment.client.get("/dashboard", params={"lang": lang}, headers=web).text
        table = dashboard[dashboard.index('id="fees-KHR"'):].split("</table>")[0]
        money = re.findall(r"<td>([^<]*\d[^<]*)</td>", table)
        amounts = [cell for cell in money if not re.fullmatch(r"(&lt;)?\d+|\d{4}-Q\d", cell)]
        assert amounts and all(re.fullmatch(rf"[\d.,]+ {riel}", cell) for cell in amounts), (lang, money)
    export = deployment.client.get("/exports/aggregates.csv", headers=web)
    assert export.status_code == 200 and "total_KHR" in export.text and "median_KHR" in export.text
