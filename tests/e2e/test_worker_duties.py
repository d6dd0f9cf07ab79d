"""The worker's duties run on their own: one that fails does not stop the others, and
`samleng worker --once` then exits non-zero naming it on one line of stderr."""

from __future__ import annotations

from tests.support.e2e import Deployment
from tests.support.twilio_fake import new_sid


def test_a_failing_duty_is_reported_and_the_others_still_run(deployment: Deployment) -> None:
    deployment.start_serve()
    phone = deployment.phone("+85512000444")
    sid = new_sid()
    assert phone.post(phone.params("The pharmacy had no TB medicine again this month", sid=sid)).status_code == 200
    deployment.stop_serve()
    # The spool folder is unusable (a file stands where the folder should be): replay fails.
    broken = deployment.workdir / "not-a-folder"
    broken.write_text("")

    done = deployment.worker_once(check=False, SAMLENG_SPOOL_DIR=str(broken))
    assert done.returncode != 0, done.stdout
    lines = [line for line in done.stderr.splitlines() if line.startswith("samleng:")]
    assert len(lines) == 1 and "replay" in lines[0] and "NotADirectoryError" in lines[0], done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert "worker duty replay failed: NotADirectoryError" in done.stderr, done.stderr
    # Every other duty ran: the report was triaged, the outbox (redaction at Twilio) delivered.
    assert deployment.scalar("SELECT status FROM report") == "triaged"
    assert any(path.endswith(f"/Messages/{sid}.json") for _m, path, _f in deployment.twilio.requests)
    for key in ("triaged=1", "delivered=1", "purged="):
        assert key in done.stdout, done.stdout

    # The folder back: a clean pass exits 0.
    again = deployment.worker_once(check=False)
    assert again.returncode == 0 and not again.stderr.count("samleng:"), again.stderr


def test_the_looping_worker_goes_on_after_a_failing_duty(deployment: Deployment) -> None:
    broken = deployment.workdir / "not-a-folder"
    broken.write_text("")
    deployment.start_serve()
    deployment.start_worker(SAMLENG_SPOOL_DIR=str(broken))
    deployment.phone("+85512000555").text("No condoms at the drop-in centre for a month")
    deployment.wait(lambda: deployment.scalar("SELECT status FROM report") == "triaged",
                    "triage while replay keeps failing")
    assert deployment.worker is not None
    deployment.wait(lambda: "worker duty replay failed: NotADirectoryError" in deployment.worker.output(),
                    "the failing duty in the log")
