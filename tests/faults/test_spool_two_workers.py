"""Every `serve` and `worker` container shares the spool folder (one volume). Two workers that
replay it at the same moment must not both take one file: neither store it twice, nor set it
aside as unreadable, nor fail their pass because the other deleted it first."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from service.inbox.models import InboundMessage as InboxRow
from service.inbox.spool import Spool
from service.intake.schemas import InboundMessage
from service.kit.clock import now
from service.outbox.worker import Worker


def test_two_workers_replaying_one_spool_take_each_file_once(settings, engine, places, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    if engine.dialect.name != "postgresql":
        pytest.skip("several workers run at once only on PostgreSQL (on SQLite the second waits its turn)")
    settings.spool_dir = str(tmp_path / "spool")
    spool = Spool(settings.spool_dir)
    count = 60
    for i in range(count):
        spool.append(InboundMessage(channel="sms", external_id=f"SMspool{i:04d}", address=f"+8551291{i:04d}",
                                    text="The clinic had no medicine for me again this week", received_at=now()))
    workers = [Worker(engine, settings), Worker(engine, settings)]
    start, errors = threading.Barrier(2), []

    def replay(worker: Worker) -> None:
        start.wait()
        try:
            worker.replay_spool()
        except Exception as exc:  # a pass that fails is what this test is about
            errors.append(type(exc).__name__)

    threads = [threading.Thread(target=replay, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    for worker in workers:  # whatever one left is done on a later pass
        worker.replay_spool()
    assert errors == []
    assert spool.set_aside() == [], [p.with_suffix(".reason").read_text() for p in spool.set_aside()]
    assert spool.pending() == []
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(InboxRow)).one() == count
