"""SIGTERM to `samleng worker` mid-batch: the message in flight is finished, the rest of the
batch is given back at once (claims and SQLite's delivery lock released), the process exits
promptly, and the next worker carries on without waiting out a lease."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import Session, col, select

from service.outbox.models import DeliveryAttempt, OutboundMessage, WorkerLock
from tests.escalation.test_worker_processes import queue
from tests.support.processes import procs, spawn_worker, wait_for  # noqa: F401  (fixtures)
from tests.support.receiver import WebhookReceiver

LEASE = 300.0  # the default: a claim left behind would hold its row for five minutes


@pytest.mark.slow
def test_sigterm_mid_batch_releases_the_rest_for_the_next_worker(settings, engine, tmp_path: Path, procs) -> None:  # type: ignore[no-untyped-def]
    total = 40
    receiver = WebhookReceiver(delay=0.3)
    try:
        queue(engine, receiver, total)
        procs.append(spawn_worker(settings.database_url, tmp_path, lease=LEASE, batch=50,
                                  SAMLENG_OUTBOX_TIMEOUT="5"))
        assert wait_for(lambda: len(receiver.raw) >= 3, 90), "the worker did not start delivering"
        procs[0].send_signal(signal.SIGTERM)
        # Documented bound: the message in flight (at most SAMLENG_OUTBOX_TIMEOUT) plus the rest of
        # the pass, about timeout + 5 s; polled generously here on a loaded machine.
        code = procs[0].wait(60)
        assert code == 0, f"exit code {code}: {procs[0].stderr.read().decode()[-2000:]}"  # type: ignore[union-attr]
        stopped_at = len(receiver.raw)
        assert stopped_at < total, "the stop must land in the middle of the batch"
        with Session(engine) as s:
            assert s.exec(select(func.count()).select_from(OutboundMessage)
                          .where(col(OutboundMessage.claimed_by).is_not(None))).one() == 0, "claims released"
            assert s.get(WorkerLock, "outbox") is None, "SQLite's delivery lock released"
            sent = s.exec(select(func.count()).select_from(OutboundMessage).where(OutboundMessage.status == "sent")).one()
        assert sent == stopped_at, "the message in flight was finished and recorded"

        # The next worker starts on the rest at once: far sooner than the 300 s lease.
        procs.append(spawn_worker(settings.database_url, tmp_path, lease=LEASE, batch=50))
        assert wait_for(lambda: len(receiver.processed) == total, 150), f"{len(receiver.processed)}/{total}"
        assert len(receiver.raw) == total, "each webhook delivered exactly once"
        assert wait_for(lambda: _sent(engine) == total, 30)
        with Session(engine) as s:
            attempts = s.exec(select(DeliveryAttempt)).all()
            assert len(attempts) == total and all(a.ok for a in attempts)
    finally:
        receiver.stop()


def _sent(engine) -> int:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(OutboundMessage).where(OutboundMessage.status == "sent")).one()
