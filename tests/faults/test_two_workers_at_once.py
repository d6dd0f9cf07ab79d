"""Two workers whose passes run at the same moment (PostgreSQL). The spool folder is shared by
every container (one volume): two workers that
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
from service.triage.tasks import FullTriage
from service.worker import Worker


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
            worker.run("replay")
        except Exception as exc:  # a pass that fails is what this test is about
            errors.append(type(exc).__name__)

    threads = [threading.Thread(target=replay, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    for worker in workers:  # whatever one left is done on a later pass
        worker.run("replay")
    assert errors == []
    assert spool.set_aside() == [], [p.with_suffix(".reason").read_text() for p in spool.set_aside()]
    assert spool.pending() == []
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(InboxRow)).one() == count


def test_two_workers_routing_at_once_route_each_report_once(settings, engine, places, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Two workers' passes at the same moment: each new report routed once, no pass failing on
    the other's route (unique per report), urgent alerts queued once."""
    from service.intake.service import receive
    from service.reports.models import Report
    from service.routing.models import ReportRoute

    if engine.dialect.name != "postgresql":
        pytest.skip("several workers run at once only on PostgreSQL (on SQLite the second waits its turn)")
    settings.spool_dir = str(tmp_path / "spool")
    count = 40
    with Session(engine) as s:
        for i in range(count):
            receive(s, InboundMessage(channel="sms", external_id=f"SMroute{i:04d}", address=f"+8551292{i:04d}",
                                      text="Police arrested my friend at the clinic and he is detained now",
                                      received_at=now()), settings=settings)
        s.commit()
    workers = [Worker(engine, settings), Worker(engine, settings)]
    FullTriage(engine).run()
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(Report).where(Report.urgency == "urgent")).one() == count
    start, errors = threading.Barrier(2), []

    def route(worker: Worker) -> None:
        start.wait()
        try:
            worker.run("route")
        except Exception as exc:
            errors.append(type(exc).__name__)

    threads = [threading.Thread(target=route, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    workers[0].run("route")
    assert errors == []
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(ReportRoute)).one() == count
