"""The smallest loop across processes: one SMS into `samleng serve`, `samleng worker` triages it."""

from __future__ import annotations

from tests.support.e2e import Deployment


def test_one_sms_through_serve_is_triaged_by_the_worker(deployed: Deployment) -> None:
    phone = deployed.phone()
    answer = phone.text("The nurse at the health centre asked me for 20000 riel for my ARV refill")
    assert answer, "the reporter is answered at once"
    assert deployed.scalar("SELECT count(*) FROM report") == 1
    deployed.wait(lambda: deployed.scalar("SELECT status FROM report") == "triaged", "the worker's triage")
    assert deployed.scalar("SELECT category FROM report") is not None
    # The worker keeps running: no failed pass, no traceback.
    assert deployed.worker is not None and deployed.worker.alive
    assert "worker pass failed" not in deployed.worker.output(), deployed.logs()
    assert "Traceback" not in deployed.logs(), deployed.logs()
