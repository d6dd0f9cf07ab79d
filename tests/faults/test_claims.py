"""Claims that hold: two workers and a slow receiver deliver every message exactly once.

The lease is shorter than a batch takes (30 webhooks, 1 s per answer, 2 s lease), so a
worker that took one lease for the whole batch would see its claims lapse and the other
worker send the same rows again. Each message's claim is re-checked right before its
send and renewed while the send is under way; on SQLite the delivery lock likewise.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from service.outbox.models import DeliveryAttempt, OutboundMessage
from tests.escalation.test_worker_processes import queue
from tests.support.processes import procs, spawn_worker, wait_for  # noqa: F401  (fixtures)
from tests.support.receiver import WebhookReceiver


def sent(engine) -> int:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(OutboundMessage).where(OutboundMessage.status == "sent")).one()


@pytest.mark.slow
def test_two_workers_and_a_slow_receiver_deliver_each_webhook_once(settings, engine, tmp_path: Path, procs) -> None:  # type: ignore[no-untyped-def]
    total = 30
    receiver = WebhookReceiver(delay=1.0)
    try:
        queue(engine, receiver, total)
        procs.extend(spawn_worker(settings.database_url, tmp_path, lease=2.0, batch=50) for _ in range(2))
        assert wait_for(lambda: sent(engine) == total, 180), f"{sent(engine)}/{total} recorded as sent"
        assert wait_for(lambda: len(receiver.processed) == total, 10)
        assert sorted(receiver.processed) == [f"bench-{i:05d}" for i in range(total)]
        assert len(receiver.raw) == total, f"{len(receiver.raw)} deliveries of {total} webhooks"
        assert receiver.rejected == 0
        with Session(engine) as s:
            attempts = s.exec(select(DeliveryAttempt)).all()
            assert len(attempts) == total and all(a.ok for a in attempts)
    finally:
        receiver.stop()


def test_a_send_after_the_claim_passed_to_another_worker_is_recorded(settings, engine) -> None:  # type: ignore[no-untyped-def]
    """A worker stalled past its lease (here: the row handed to another worker while the
    receiver is answering) still records that it sent, as a possible duplicate."""
    import threading

    from service.worker import Worker

    receiver = WebhookReceiver(delay=1.0)
    try:
        queue(engine, receiver, 1)
        worker = Worker(engine, settings)

        def take_over() -> None:
            wait_for(lambda: receiver.server is not None and _claimed(engine), 10)
            with Session(engine) as s:
                row = s.exec(select(OutboundMessage)).one()
                row.claimed_by = "another-host:1:takeover"
                s.add(row)
                s.commit()

        thief = threading.Thread(target=take_over)
        thief.start()
        worker.run("deliver")
        thief.join()
        with Session(engine) as s:
            row = s.exec(select(OutboundMessage)).one()
            assert row.status == "pending" and row.claimed_by == "another-host:1:takeover", "left to its new owner"
            attempt = s.exec(select(DeliveryAttempt)).one()
            assert attempt.ok and "claim passed to another worker" in (attempt.error or "")
        assert len(receiver.raw) == 1
    finally:
        receiver.stop()


def _claimed(engine) -> bool:  # type: ignore[no-untyped-def]
    """Claimed and marked "sending": the worker has passed its last claim check and is sending."""
    with Session(engine) as s:
        return s.exec(select(OutboundMessage.sending_at)).one() is not None
