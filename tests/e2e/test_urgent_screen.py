"""The urgency screen as deployed: behind a backlog of ordinary reports larger than the full
triage's backlog line, an emergency the word lists miss (only a model recognises it) has its alert
email out while most of the backlog still waits for the full triage; the full triage reads the
newest first, reads every report exactly once, and loses none."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from service.triage.tasks import FullTriage
from tests.e2e.test_urgent_first import ORDINARY, _alerted_cases, _json, _when
from tests.support.e2e import Deployment
from tests.triage.test_screen import SCREEN_ONLY

BACKLOG = FullTriage.BACKLOG + 30  # over the line: the full triage reads the newest first


def test_an_emergency_only_the_screen_sees_is_alerted_before_the_backlog_is_triaged(deployment: Deployment) -> None:
    deployment.cli("demo", "--history", "0", timeout=900)
    deployment.start_serve()
    before = deployment.scalar("SELECT coalesce(max(id), 0) FROM report")

    def send(i: int) -> None:
        deployment.phone(f"+8551271{i:04d}").text(f"{ORDINARY[i % len(ORDINARY)]} ({i})")

    with ThreadPoolExecutor(8) as pool:  # the backlog, queued while no worker runs
        list(pool.map(send, range(BACKLOG)))
    deployment.phone("+85512719999").text(SCREEN_ONLY)
    urgent_id = deployment.scalar("SELECT max(id) FROM report")
    assert deployment.scalar("SELECT count(*) FROM report WHERE id > :b AND status = 'received'", b=before) == BACKLOG + 1

    deployment.start_worker()
    deployment.wait(lambda: urgent_id in _alerted_cases(deployment), "the screen's urgent alert email", timeout=300)
    waiting_at_alert = deployment.scalar(
        "SELECT count(*) FROM report WHERE id > :b AND triage_confidence IS NULL", b=before)
    assert waiting_at_alert > BACKLOG // 2, "the alert waited behind most of the backlog's full triage"
    first = _json(deployment.scalar(
        "SELECT detail FROM report_event WHERE report_id = :r AND kind = 'triage' ORDER BY id LIMIT 1", r=urgent_id))
    assert first.get("provisional") is True and first["urgency"] == "urgent", "made urgent by the quick step's screen"

    deployment.wait(lambda: deployment.scalar(
        "SELECT count(*) FROM report WHERE id > :b AND triage_confidence IS NULL", b=before) == 0,
        "the backlog's full triage", timeout=900)
    deployment.wait(lambda: deployment.scalar(
        "SELECT count(*) FROM outbound_message WHERE report_id = :r AND dedupe_key LIKE 'urgent-alert:%' "
        "AND status = 'pending'", r=urgent_id) == 0, "the alerts delivered")

    # Nothing lost, each report fully triaged exactly once, each person alerted once.
    assert deployment.scalar("SELECT count(*) FROM report WHERE id > :b", b=before) == BACKLOG + 1
    assert deployment.scalar("SELECT count(*) FROM report WHERE id > :b AND status = 'received'", b=before) == 0
    events = deployment.rows(
        "SELECT report_id, created_at, detail FROM report_event WHERE kind = 'triage' AND report_id > :b "
        "ORDER BY id", b=before)
    full = [(report_id, _when(at)) for report_id, at, detail in events if not _json(detail).get("provisional")]
    assert sorted(report_id for report_id, _ in full) == list(range(before + 1, urgent_id + 1))
    org_people = deployment.scalar(
        "SELECT count(*) FROM app_user WHERE is_active AND role IN ('handler', 'supervisor') "
        "AND org_id = (SELECT org_id FROM report WHERE id = :r)", r=urgent_id)
    assert org_people >= 1 and _alerted_cases(deployment).count(urgent_id) == org_people
    assert len(set(_alerted_cases(deployment))) == 1, "no ordinary report alerted"
    # The full triage confirms it; and, the newest, it was read within the first chunks.
    assert deployment.scalar("SELECT urgency FROM report WHERE id = :r", r=urgent_id) == "urgent"
    order = [report_id for report_id, _ in sorted(full, key=lambda item: item[1])]
    assert order.index(urgent_id) < 2 * FullTriage.CHUNK, "under the backlog the newest is read first"
