"""What `samleng serve` writes to its log, at INFO, as deployed: ids and kinds, never a request
line. A path can carry a secret (a grievance body's response link, /respond/<token>) and a
log is read by more people than the platform's secrets are."""

from __future__ import annotations

from tests.support.e2e import Deployment


def test_serve_logs_no_request_lines_no_number_no_text_no_token(deployment: Deployment) -> None:
    deployment.start_serve()
    number, story = "+85512987654", "The nurse at the health centre asked me for 20000 riel"
    assert deployment.phone(number).text(story)
    token = "Zq7uT0kenFromAResponseLink4x9"
    assert deployment.client.get(f"/respond/{token}").status_code in (403, 404)
    assert deployment.client.get("/healthz").status_code == 200
    deployment.stop_serve()
    log = deployment.finished[-1].output()
    assert "inbound sms message #" in log, "the log is written at INFO (ids and kinds)"
    for secret in (token, "/respond/", number, number[1:], "20000 riel", "nurse"):
        assert secret not in log, f"{secret!r} is in serve's log"
    assert "/webhooks/twilio/sms" not in log and "/healthz" not in log, "no request lines"
