"""Urgent alert emails go out on several senders side by side: a slow mail relay holds up only
the batch in its hands, not every alert queued behind it; each alert still goes once."""

from __future__ import annotations

import threading
import time

import pytest
from sqlmodel import Session, col, select

from service.flows.arrival import ALERT_BATCH, ALERT_SENDERS
from service.outbox.models import OutboundMessage
from service.worker import Worker
from tests.routing.dialogue import DETENTION, people, text


def test_alerts_of_a_burst_go_out_side_by_side_each_once(engine, settings, seeded, smtp) -> None:  # type: ignore[no-untyped-def]
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one delivery lock: one sender at a time")
    people(engine)
    count = ALERT_BATCH * ALERT_SENDERS  # one khana handler each: a batch for every sender
    for i in range(count):
        text(engine, settings, f"+855120061{i:02d}", f"{DETENTION} ({i})", 0)
    smtp.mailbox.delay = 0.3  # a relay that takes its time over each message
    worker = Worker(engine, settings, skip={"triage"})  # the urgent lane and the pass, no model
    thread = threading.Thread(target=worker.run_forever, kwargs={"interval": 0.2}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 120
        while len(smtp.messages) < count and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        worker.stopping.set()
        thread.join(60)
    with Session(engine) as s:
        alerts = s.exec(select(OutboundMessage).where(col(OutboundMessage.dedupe_key).startswith("urgent-alert:"))).all()
        assert len(alerts) == count and {a.status for a in alerts} == {"sent"}
    keys = [m["Idempotency-Key"] for m in smtp.messages]
    assert len(keys) == count and len(set(keys)) == count, "every alert once"
    assert smtp.mailbox.peak >= ALERT_SENDERS, f"at most {smtp.mailbox.peak} at once: one sender held the others' alerts"
