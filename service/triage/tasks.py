"""Triage's background jobs: the quick read of new reports (word lists alone, for urgency at once)
and the full triage (rules, model, sentence embedding) in time-sized chunks.

Both are run by the arrival flow (service/flows/arrival.py), which routes and alerts between them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from sqlmodel import Session, col, func, select

from service.db import read_only_options, session_scope
from service.kit.crypto import unseal
from service.reports.models import Report
from service.triage.quick import apply_provisional, classify_screened
from service.triage.service import apply_triage, classify_many

QUICK_BATCH = 25  # new reports read by the word lists per short transaction (their urgent ones are routed next)
QUICK_ROUNDS = 160  # at most this many such transactions per quick step
# The statuses whose reports the full triage still reads: new, and open cases (a handler may take
# or escalate an urgent case before the full triage reaches it). Not resolved or closed, not the
# end states (duplicate, withdrawn, rejected).
REFINE_STATUSES = ("received", "triaged", "in_progress", "escalated", "responded")


def _sealed(report: Report) -> bytes:
    sealed = report.narrative_sealed
    assert sealed is not None, "the queries ask for reports with a narrative"
    return sealed


def _narrative(report: Report) -> str:
    return unseal(_sealed(report))


def read_quick_chunk(engine: Any, batch: int = QUICK_BATCH) -> tuple[int, int]:
    """One transaction of the quick, provisional step: up to `batch` new reports, oldest first,
    read by the word lists and the urgency screen (no embedding, about a millisecond each); the
    urgent ones are marked triaged with their provisional reading. Each report is read once
    (claimed with SKIP LOCKED on PostgreSQL). Returns (how many became urgent, how many were
    read): fewer read than asked means none is left."""
    query = (
        select(Report)
        .where(
            Report.status == "received",
            col(Report.narrative_sealed).is_not(None),
            col(Report.triage_language).is_(None),
            col(Report.triage_confidence).is_(None),
        )
        .order_by(col(Report.id))
        .limit(batch)
    )
    urgent = 0
    if engine.dialect.name == "sqlite":
        # Read and classify on a read-only snapshot, then store in one short write: SQLite has one
        # writer, and the webhooks wait for it while a write transaction is open.
        with Session(engine) as reading:
            reading.connection(execution_options=read_only_options(engine))
            read = [(r.id, _sealed(r)) for r in reading.exec(query).all()]
        results = [classify_screened(unseal(sealed)) for _, sealed in read]
        with session_scope(engine) as session:
            for (report_id, sealed), result in zip(read, results, strict=True):
                report = session.get(Report, report_id)
                # Read meanwhile by another step, or its reporter added text: the next chunk reads it.
                if report is not None and report.status == "received" and report.narrative_sealed == sealed:
                    urgent += apply_provisional(session, report, result)
        return urgent, len(read)
    with session_scope(engine) as session:  # PostgreSQL: the chunk's rows claimed while they are read
        due = session.exec(query.with_for_update(skip_locked=True)).all()
        for report in due:
            result = classify_screened(_narrative(report))
            urgent += apply_provisional(session, report, result)
    return urgent, len(due)


class FullTriage:
    """The full triage (rules, model, sentence embedding) of reports that have had none yet, or
    only the quick one: category, urgency, language, population, reasons.

    It remembers how long a report took (to size the next chunk) and whether its last run
    stopped at its time limit (`more`: the worker's next pass then starts at once)."""

    CHUNK = 16  # at most this many reports embedded together and committed together
    # More reports than this waiting: the newest are read first (docs/triage.md, "Under a backlog").
    BACKLOG = 200
    CHUNK_SECONDS = 1.0  # a chunk is sized to take about this long (the urgent step runs between)

    def __init__(self, engine: Any, stopping: threading.Event | None = None) -> None:
        self.engine = engine
        self.stopping = stopping or threading.Event()
        self.per_report = 0.05  # seconds of full triage per report, as last measured
        self.more = False  # the last run stopped at its time limit

    def run(self, limit: int = 500, *, between: Callable[[], Any] | None = None, seconds: float | None = None) -> int:
        """In chunks embedded together and committed together, sized to take about CHUNK_SECONDS
        each (at most CHUNK reports), so the urgent step that `between` runs before each chunk
        is never far off, however loaded the machine. PostgreSQL: a chunk's reports are claimed
        with SKIP LOCKED for the chunk. SQLite: the texts are read without the write lock and
        embedded outside any transaction; the results are stored in one short one, skipping a
        report triaged meanwhile (its reporter added text). `seconds` bounds the time spent."""
        started, total = time.monotonic(), 0
        self.more = False
        sqlite = self.engine.dialect.name == "sqlite"
        while total < limit:
            if between is not None:
                between()
            if self.stopping.is_set():
                break
            size = max(1, min(self.CHUNK, int(self.CHUNK_SECONDS / self.per_report), limit - total))
            newest_first = self.backlogged()
            query = _due().order_by(col(Report.id).desc() if newest_first else col(Report.id)).limit(size)
            chunk_started = time.monotonic()
            if sqlite:
                with Session(self.engine) as reading:
                    reading.connection(execution_options=read_only_options(self.engine))
                    due = [(r.id, _narrative(r)) for r in reading.exec(query).all()]
                results = classify_many([t for _, t in due]) if due else []
                with session_scope(self.engine) as session:
                    for (report_id, text), result in zip(due, results, strict=True):
                        report = session.get(Report, report_id)
                        if report is not None and report.triage_confidence is None and report.status in REFINE_STATUSES:
                            apply_triage(session, report, text, result=result)
            else:
                # Several workers triage side by side, each its own reports (the others' are skipped).
                with session_scope(self.engine) as session:
                    reports = session.exec(query.with_for_update(skip_locked=True)).all()
                    due = [(r.id, _narrative(r)) for r in reports]
                    results = classify_many([t for _, t in due]) if due else []
                    for report, (_, text), result in zip(reports, due, results, strict=True):
                        apply_triage(session, report, text, result=result)
            if due:
                took = (time.monotonic() - chunk_started) / len(due)
                self.per_report = 0.5 * self.per_report + 0.5 * took
            total += len(due)
            if len(due) < size:
                break
            if seconds is not None and time.monotonic() - started > seconds:
                self.more = True
                break
        return total

    def backlogged(self) -> bool:
        """More than BACKLOG reports wait for the full triage (counted up to BACKLOG + 1 only)."""
        with Session(self.engine) as session:
            ids = select(Report.id).where(*_DUE).limit(self.BACKLOG + 1).subquery()
            waiting = session.exec(select(func.count()).select_from(ids)).one()
        return waiting > self.BACKLOG


_DUE = (
    col(Report.triage_confidence).is_(None),
    col(Report.narrative_sealed).is_not(None),
    # New reports, and those the quick step read (and alerted on when urgent) that are still
    # open, whatever a handler did meanwhile (took, corrected, escalated them). The status index
    # walks the open statuses alone: the working set, not the history.
    col(Report.status).in_(REFINE_STATUSES),
)


def _due() -> Any:
    """The reports the full triage still has to read."""
    return select(Report).where(*_DUE)
