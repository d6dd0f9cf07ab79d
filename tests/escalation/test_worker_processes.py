"""The worker as real processes: killed mid-batch and restarted, and two side by side on PostgreSQL.

Messages go to a local webhook receiver that verifies each request with the reference
Standard Webhooks library and honours `webhook-id`, as integrators are asked to.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from service.bodies.service import upsert_body, webhook_secret
from service.outbox.models import DeliveryAttempt, OutboundMessage
from service.outbox.service import enqueue_to_body
from tests.escalation.receivers import WebhookReceiver
from tests.support.database import TEST_KEYS

ROOT = Path(__file__).resolve().parents[2]


def spawn_worker(database_url: str, tmp_path: Path, *, lease: float = 1.0, batch: int = 50) -> subprocess.Popen:
    env = {**os.environ, **TEST_KEYS, "SAMLENG_ENV": "test", "SAMLENG_DATABASE_URL": database_url,
           "SAMLENG_SPOOL_DIR": str(tmp_path / "spool"), "SAMLENG_VAR_DIR": str(tmp_path / "var"),
           "SAMLENG_OUTBOX_LEASE_SECONDS": str(lease), "SAMLENG_OUTBOX_BATCH": str(batch),
           "SAMLENG_LOG_LEVEL": "WARNING"}
    return subprocess.Popen([sys.executable, "-m", "service.cli", "worker", "--interval", "0.05"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.fixture
def procs() -> Iterator[list[subprocess.Popen]]:
    started: list[subprocess.Popen] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


def queue(engine, receiver: WebhookReceiver, count: int) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        body = upsert_body(s, slug="integrator", name_en="Integrating body", level="national",
                           webhook_url=receiver.url)
        receiver.secret = webhook_secret(body) or ""
        for i in range(count):
            enqueue_to_body(s, body_id=body.id, kind="webhook", dedupe_key=f"bench-{i:05d}",  # type: ignore[arg-type]
                            payload={"type": "case.escalated", "data": {"n": i}})
        s.commit()


def wait_for(predicate, timeout: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


@pytest.mark.slow
def test_worker_killed_mid_batch_delivers_everything_once_after_restart(settings, engine, tmp_path, procs) -> None:  # type: ignore[no-untyped-def]
    total = 120
    receiver = WebhookReceiver(delay=0.02)
    try:
        queue(engine, receiver, total)
        procs.append(spawn_worker(settings.database_url, tmp_path))
        assert wait_for(lambda: len(receiver.raw) >= 30, 60), "worker did not start delivering"
        procs[0].send_signal(signal.SIGKILL)
        procs[0].wait(10)
        delivered_before = len(receiver.processed)
        assert 0 < delivered_before < total, "the kill must land in the middle of the work"
        procs.append(spawn_worker(settings.database_url, tmp_path))
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
