"""`samleng worker --once` as its own process, after a new report, a spooled answer and a pending
outbox row exist: it triages, replays and delivers, and exits 0.

Before every entry point imported the whole model, this pass exited 1 with
NoReferencedTableError ('report.org_id' → 'organisation') as soon as one report existed.
"""

from __future__ import annotations

import subprocess
import sys

from tests.support.e2e import ROOT, TWILIO_FROM, Deployment
from tests.support.twilio_fake import new_sid

REPORTER = "+85512000111"
SPOOLED_REPORTER = "+85512000222"


def test_worker_once_triages_replays_and_delivers(deployment: Deployment) -> None:
    deployment.start_serve()
    phone = deployment.phone(REPORTER)
    sms_sid = new_sid()
    assert phone.post(phone.params("They asked me to pay 10000 riel for the TB test, it should be free",
                                   sid=sms_sid)).status_code == 200
    deployment.stop_serve()
    assert deployment.scalar("SELECT status FROM report") == "received"
    assert deployment.scalar("SELECT count(*) FROM outbound_message WHERE status = 'pending'") == 1, \
        "the SMS's redaction at Twilio waits in the outbox"

    spooled_sid = new_sid()
    spooled = deployment.spool(channel="sms", external_id=spooled_sid, address=SPOOLED_REPORTER,
                               text="No ARV at the health centre for two weeks")

    done = deployment.worker_once(check=False)
    assert done.returncode == 0, f"worker --once exited {done.returncode}\n{done.stdout}\n{done.stderr}"
    counts = dict(part.split("=") for part in done.stdout.split())
    assert int(counts["replayed"]) == 1 and int(counts["triaged"]) >= 1 and int(counts["delivered"]) >= 2, done.stdout

    # The new report was triaged.
    assert deployment.scalar("SELECT count(*) FROM report WHERE status = 'received'") == 0
    assert deployment.rows("SELECT category FROM report WHERE category IS NOT NULL")
    # The spooled answer was replayed into the database exactly once, and the file is gone.
    assert not spooled.exists()
    assert deployment.scalar("SELECT count(*) FROM report") == 2
    assert deployment.scalar("SELECT count(*) FROM inbound_message WHERE external_id = :sid AND spooled = :t",
                             sid=spooled_sid, t=True) == 1
    # The outbox was delivered to (the fake) Twilio: the redaction of the first SMS, and the dialogue's
    # real answer to the spooled one (its sender was only told "received").
    paths = [path for _m, path, _f in deployment.twilio.requests]
    assert any(path.endswith(f"/Messages/{sms_sid}.json") for path in paths), paths
    replies = deployment.sms_to(SPOOLED_REPORTER)
    assert len(replies) == 1 and replies[0], deployment.twilio.requests
    assert all(form.get("From") == TWILIO_FROM for _m, path, form in deployment.twilio.requests
               if path.endswith("/Messages.json"))
    assert deployment.scalar("SELECT count(*) FROM outbound_message WHERE status <> 'sent'") == 0


def test_a_spool_file_that_fails_goes_aside_and_the_files_behind_it_are_replayed(deployment: Deployment) -> None:
    # Sorted first (the spool replays in name order): a file that reads but cannot be processed.
    bad = deployment.spool_raw("19700101T000000000000-broken.msg", {
        "channel": "sms", "external_id": new_sid(), "address": SPOOLED_REPORTER, "text": 12345,
        "received_at": "2026-01-01T00:00:00+00:00"})
    behind = [deployment.spool(channel="sms", external_id=new_sid(), address=f"+8551200033{i}",
                               text=f"Report number {i}: the clinic was closed all day") for i in range(2)]

    done = deployment.worker_once(check=False)
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    assert not any(path.exists() for path in behind), "the files behind the failing one were replayed"
    assert deployment.scalar("SELECT count(*) FROM report") == 2
    assert not bad.exists()
    aside = bad.with_suffix(".bad")
    assert aside.exists(), sorted(p.name for p in deployment.spool_dir.iterdir())
    reason = aside.with_suffix(".reason").read_text()
    assert "AttributeError" in reason, reason
    assert "12345" not in reason and SPOOLED_REPORTER not in reason, "a reason, never the content"
    assert SPOOLED_REPORTER not in done.stderr and "clinic" not in done.stderr
    # Run again: nothing left to replay, the file set aside stays aside.
    again = deployment.worker_once(check=False)
    assert again.returncode == 0 and "replayed=0" in again.stdout, again.stdout
    assert aside.exists()


def test_each_entry_point_sees_every_table_of_the_migrated_database(deployment: Deployment) -> None:
    from sqlalchemy import inspect

    migrated = {name for name in inspect(deployment.engine).get_table_names()
                if name != "alembic_version" and not name.startswith("report_fts")}  # SQLite FTS5: not model tables
    for entry in ("service.cli", "service.app", "bots.telegram.polling"):
        done = subprocess.run([sys.executable, "-c", f"import {entry}; from sqlmodel import SQLModel; "
                               "print(' '.join(sorted(SQLModel.metadata.tables)))"],
                              cwd=ROOT, env=deployment.env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        known = set(done.stdout.split())
        assert migrated <= known, f"{entry} does not know {sorted(migrated - known)}"


def test_the_full_triage_can_run_in_a_worker_of_its_own(deployment: Deployment) -> None:
    """Under load the model's reading (tens of ms a report) is split from the rest: one worker
    `--skip triage` (the urgent step, routing, delivery, deadlines), another `--only triage`
    (run under `nice`, docs/deployment.md). Each runs just its part."""
    deployment.start_serve()
    phone = deployment.phone(REPORTER)
    assert phone.post(phone.params("The nurse was rude and we waited five hours at the health centre",
                                   sid=new_sid())).status_code == 200
    deployment.stop_serve()

    rest = deployment.cli("worker", "--once", "--skip", "triage", check=False)
    assert rest.returncode == 0, rest.stderr
    counts = dict(part.split("=") for part in rest.stdout.split())
    assert "triaged" not in counts and int(counts["delivered"]) >= 1, rest.stdout
    assert deployment.scalar("SELECT status FROM report") == "received", "not triaged by a worker that skips it"

    triage = deployment.cli("worker", "--once", "--only", "triage", check=False)
    assert triage.returncode == 0, triage.stderr
    assert triage.stdout.split() == ["triaged=1"], triage.stdout
    assert deployment.scalar("SELECT category FROM report") is not None

    unknown = deployment.cli("worker", "--once", "--only", "triage,translate", check=False)
    assert unknown.returncode == 2
    assert "translate" in unknown.stderr and "deliver" in unknown.stderr, unknown.stderr  # the names it knows
