"""The worker as real processes: killed mid-batch and restarted, and two side by side on PostgreSQL.

Messages go to a local webhook receiver that verifies each request with the reference
Standard Webhooks library and honours `webhook-id`, as integrators are asked to.
"""

from __future__ import annotations

import signal
import time

import pytest
from sqlmodel import Session, func, select

from service.bodies.service import upsert_body, webhook_secret
from service.outbox.models import DeliveryAttempt, OutboundMessage
from service.outbox.service import enqueue_to_body
from tests.support.processes import procs, spawn_worker, wait_for  # noqa: F401  (fixtures)
from tests.support.receiver import WebhookReceiver


def queue(engine, receiver: WebhookReceiver, count: int) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        body = upsert_body(s, slug="integrator", name_en="Integrating body", level="national",
                           webhook_url=receiver.url)
        receiver.secret = webhook_secret(body) or ""
        for i in range(count):
            enqueue_to_body(s, body_id=body.id, kind="webhook", dedupe_key=f"bench-{i:05d}",  # type: ignore[arg-type]
                            payload={"type": "case.escalated", "data": {"n": i}})
        s.commit()


@pytest.mark.slow
def test_worker_killed_mid_batch_delivers_everything_once_after_restart(settings, engine, tmp_path, procs) -> None:  # type: ignore[no-untyped-def]
    total = 120
    receiver = WebhookReceiver(delay=0.02)
    try:
        queue(engine, receiver, total)
        procs.append(spawn_worker(settings.database_url, tmp_path, lease=1.0))
        assert wait_for(lambda: len(receiver.raw) >= 30, 60), "worker did not start delivering"
        procs[0].send_signal(signal.SIGKILL)
        procs[0].wait(10)
        delivered_before = len(receiver.processed)
        assert 0 < delivered_before < total, "the kill must land in the middle of the work"
        procs.append(spawn_worker(settings.database_url, tmp_path, lease=1.0))
        assert wait_for(lambda: len(receiver.processed) == total, 90), f"{len(receiver.processed)}/{total} delivered"

        def all_recorded() -> bool:
            with Session(engine) as s:
                return s.exec(select(func.count()).select_from(OutboundMessage)
                              .where(OutboundMessage.status == "sent")).one() == total
        assert wait_for(all_recorded, 30)
        assert sorted(receiver.processed) == [f"bench-{i:05d}" for i in range(total)]
        # At most the one request in flight at the kill reached the receiver twice, with the same id.
        assert len(receiver.raw) - total <= 1 and receiver.rejected == 0
        with Session(engine) as s:
            ok = s.exec(select(func.count()).select_from(DeliveryAttempt).where(DeliveryAttempt.ok == True)).one()  # noqa: E712
            assert ok == total
    finally:
        receiver.stop()


@pytest.mark.slow
def test_two_workers_on_postgresql_never_deliver_a_row_twice(settings, engine, tmp_path, procs) -> None:  # type: ignore[no-untyped-def]
    if engine.dialect.name != "postgresql":
        pytest.skip("SKIP LOCKED claims are PostgreSQL's; SQLite runs one delivering worker")
    total = 3000
    receiver = WebhookReceiver()
    try:
        queue(engine, receiver, total)
        procs.extend(spawn_worker(settings.database_url, tmp_path, lease=300, batch=100) for _ in range(2))
        assert wait_for(lambda: len(receiver.raw) >= total, 240), f"{len(receiver.raw)}/{total} delivered"
        time.sleep(1.0)  # anything extra would arrive now
        assert len(receiver.raw) == total and len(receiver.processed) == total, "a row was delivered twice"
        assert receiver.rejected == 0
        with Session(engine) as s:
            assert s.exec(select(func.count()).select_from(DeliveryAttempt)).one() == total
    finally:
        receiver.stop()
