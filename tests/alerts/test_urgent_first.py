"""Urgent first: the worker's quick step reads new reports with the word lists alone, routes the
urgent ones and sends their alerts before the full triage (with the sentence embedding) runs;
the full triage then refines every report without a second alert."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import Session, col, select

from service.outbox.models import OutboundMessage
from service.triage.tasks import FullTriage
from service.worker import Worker
from service.reports.models import Report, ReportEvent
from service.routing.models import ReportRoute
from tests.routing.dialogue import DETENTION, people, text

PLAIN = "The nurse at the health centre was rude and made me wait all day for my pills"


def labelled_texts(urgency: str) -> list[str]:
    data = Path(__file__).resolve().parents[2] / "service" / "triage" / "data"
    rows = []
    for path in [data / "train.jsonl", *sorted((data / "voices").glob("*.jsonl"))]:
        rows += [row["text"] for line in path.read_text(encoding="utf-8").splitlines()
                 if line.strip() and (row := json.loads(line))["urgency"] == urgency]
    return rows


def _alerts(s: Session, report_id: int | None = None) -> list[OutboundMessage]:
    query = select(OutboundMessage).where(col(OutboundMessage.dedupe_key).startswith("urgent-alert:"))
    if report_id is not None:
        query = query.where(OutboundMessage.report_id == report_id)
    return list(s.exec(query).all())


def _report_of(s: Session, marker: str) -> Report:
    return s.exec(select(Report).where(col(Report.narrative_masked).contains(marker))).one()


def test_urgent_report_is_alerted_before_the_full_triage_and_refined_after(engine, settings, seeded, smtp) -> None:  # type: ignore[no-untyped-def]
    people(engine)
    for i in range(5):
        text(engine, settings, f"+8551200030{i}", f"{PLAIN} (visit {i})", 0)
    text(engine, settings, "+85512000310", DETENTION, 0)
    worker = Worker(engine, settings)

    assert worker.run("urgent") == 1
    assert [m["To"] for m in smtp.messages] == ["handler@khana.example"], "the alert went out in the quick step"
    with Session(engine) as s:
        urgent = _report_of(s, "ប៉ូលីស")
        assert (urgent.status, urgent.urgency, urgent.triage_confidence) == ("triaged", "urgent", None)
        assert urgent.triage_reasons[0]["kind"] == "provisional"
        assert any(r.get("rule", "").startswith("urgent/") for r in urgent.triage_reasons), "rule reasons kept"
        assert s.exec(select(ReportRoute).where(ReportRoute.report_id == urgent.id)).first() is not None
        plain = s.exec(select(Report).where(Report.id != urgent.id)).all()
        assert {(r.status, r.triage_confidence) for r in plain} == {("received", None)}
        assert all(r.triage_language == "en" for r in plain), "read once by the quick step"
        assert s.exec(select(func.count()).select_from(ReportRoute)).one() == 1, "ordinary reports wait"
        urgent_id = urgent.id

    assert worker.run("urgent") == 0, "a second quick step finds nothing new"
    assert FullTriage(engine).run() == 6
    worker.run("route")
    worker.run("deliver")
    assert len(smtp.messages) == 1, "refining the urgent report sends no second alert"
    with Session(engine) as s:
        report = s.get_one(Report, urgent_id)
        assert report.urgency == "urgent" and report.triage_confidence is not None
        assert report.triage_reasons[0]["kind"] != "provisional", "the full triage's reasons replace the quick ones"
        details = [e.detail for e in s.exec(select(ReportEvent).where(
            ReportEvent.report_id == urgent_id, ReportEvent.kind == "triage").order_by(col(ReportEvent.id))).all()]
        assert [d.get("provisional", False) for d in details] == [True, False]
        assert len(_alerts(s, urgent_id)) == 1
        assert s.exec(select(func.count()).select_from(Report).where(col(Report.triage_confidence).is_(None))).one() == 0


def test_a_report_the_model_makes_urgent_is_alerted_after_the_full_triage(engine, settings, seeded, smtp) -> None:  # type: ignore[no-untyped-def]
    from service.triage import classify
    from service.triage.quick import classify_screened

    classify("warm up")  # the model loaded, so the quick step has its screen too
    # Written for this test (in no labelled file, so the screen has not learnt them), then the labelled ones.
    candidates = [
        "they locked my brother in the centre and he is shaking and vomiting, no doctor comes",
        "a man took my little sister into his car after school and she is not answering her phone",
        *labelled_texts("urgent"),
    ]
    found = next((t for t in candidates if len(t) < 300 and classify_screened(t).urgency != "urgent"
                  and classify(t).urgency == "urgent"), None)
    if found is None:
        pytest.skip("every labelled urgent message is urgent by the word lists or the screen alone")
    people(engine)
    text(engine, settings, "+85512000320", found, 0)
    worker = Worker(engine, settings)
    assert worker.run("urgent") == 0 and smtp.messages == []
    assert FullTriage(engine).run() == 1
    worker.run("urgent")  # what the pass runs before its next chunk
    assert len(smtp.messages) >= 1, "the model added urgency: alerted then"
    with Session(engine) as s:
        report = s.exec(select(Report)).one()
        assert report.urgency == "urgent" and any(r.get("rule") == "model/urgency" for r in report.triage_reasons)


def test_full_triage_reading_less_keeps_the_urgency_and_says_why(engine, settings, seeded) -> None:  # type: ignore[no-untyped-def]
    from service.triage import apply_provisional, apply_triage, classify_quick

    text(engine, settings, "+85512000330", DETENTION, 0)
    with Session(engine) as s:
        report = s.exec(select(Report)).one()
        assert apply_provisional(s, report, classify_quick(DETENTION))
        assert not apply_provisional(s, report, classify_quick(DETENTION)), "once only"
        # The text the full triage reads no longer holds the emergency (e.g. the rules changed in
        # between): the alert was sent; urgency stays; the reasons say both readings.
        result = apply_triage(s, report, PLAIN)
        assert result.urgency != "urgent" and report.urgency == "urgent"
        kept = [r for r in report.triage_reasons if r.get("rule") == "provisional/kept_urgent"]
        assert kept and kept[0]["urgency"] == result.urgency


def test_two_workers_quick_step_at_once_alert_each_case_once(engine, settings, seeded, smtp) -> None:  # type: ignore[no-untyped-def]
    if engine.dialect.name != "postgresql":
        pytest.skip("several workers run at once only on PostgreSQL")
    people(engine)
    count = 30
    for i in range(count):
        text(engine, settings, f"+855120004{i:02d}", "Police arrested my friend at the clinic, he is detained now", 0)
    workers = [Worker(engine, settings), Worker(engine, settings)]
    start, errors = threading.Barrier(2), []

    def run(worker: Worker) -> None:
        start.wait()
        try:
            worker.run("urgent")
        except Exception as exc:  # a failing step is what this test is about
            errors.append(type(exc).__name__)

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    for worker in workers:
        worker.run("urgent")
    assert errors == []
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(ReportRoute)).one() == count
        alerts = _alerts(s)
        assert len(alerts) == count and {a.status for a in alerts} == {"sent"}
        events = s.exec(select(func.count()).select_from(ReportEvent).where(ReportEvent.kind == "triage")).one()
        assert events == count, "each report read once by the quick step"
    assert len(smtp.messages) == count


def test_a_case_a_handler_acted_on_before_the_full_triage_is_still_refined(engine, settings, seeded, smtp) -> None:  # type: ignore[no-untyped-def]
    """The quick step alerted; a handler took the case (in progress), corrected it, or rejected it
    before the full triage reached it. The full triage still refines the open ones, keeps what
    the handler chose (category, urgency, population), moves no route, and leaves an ended case alone."""
    from service.orgs.models import User
    from service.queue import actions

    people(engine)
    for i in range(3):
        text(engine, settings, f"+8551200034{i}", f"{DETENTION} ({i})", 0)
    text(engine, settings, "+85512000350", PLAIN, 0)
    worker = Worker(engine, settings)
    assert worker.run("urgent") == 3
    with Session(engine) as s:
        handler = s.exec(select(User).where(User.email == "handler@khana.example")).one()
        taken, corrected, rejected = (_report_of(s, f"({i})") for i in range(3))
        plain = _report_of(s, "rude")
        actions.claim(s, user=handler, report=taken)
        actions.set_status(s, user=handler, report=taken, to="in_progress")
        actions.correct_triage(s, user=handler, report=corrected, category="service_quality", population="tb")
        actions.set_status(s, user=handler, report=corrected, to="in_progress")
        actions.set_status(s, user=handler, report=rejected, to="rejected", reason="a test of an ended case")
        actions.set_status(s, user=handler, report=plain, to="in_progress")
        s.commit()
        ids = {name: r.id for name, r in
               (("taken", taken), ("corrected", corrected), ("rejected", rejected), ("plain", plain))}
        routes_before = {r.report_id: (r.rule_id, r.actor) for r in s.exec(select(ReportRoute)).all()}

    assert FullTriage(engine).run() == 3, "the two taken urgent cases and the plain one; not the rejected one"
    worker.run("route")
    worker.run("deliver")
    with Session(engine) as s:
        taken, corrected, rejected, plain = (s.get_one(Report, ids[k]) for k in ("taken", "corrected", "rejected", "plain"))
        for report in (taken, corrected, plain):
            assert report.triage_confidence is not None, "refined whatever the handler did first"
            assert report.status == "in_progress", "the handler's status stays"
            assert report.triage_reasons[0]["kind"] != "provisional"
        assert taken.urgency == "urgent"
        assert (corrected.category, corrected.category_source, corrected.population) == ("service_quality", "handler", "tb")
        assert corrected.urgency == "urgent"
        assert rejected.triage_confidence is None and rejected.status == "rejected", "an ended case is left alone"
        routes_after = {r.report_id: (r.rule_id, r.actor) for r in s.exec(select(ReportRoute)).all()}
        assert {k: routes_after[k] for k in routes_before} == routes_before, "no route moved under a handler"
        assert len(_alerts(s)) == 3, "no second alert"
    assert len(smtp.messages) == 3


def test_an_urgency_only_the_screen_gave_is_lowered_by_the_full_triage(engine, settings, seeded) -> None:  # type: ignore[no-untyped-def]
    """The quick screen alerted on a report its word lists did not find urgent; the full triage
    reads it as not urgent: the urgency follows the full reading (the alert stays sent), and the
    reasons say so. An urgency the word lists gave stays (the test above)."""
    from service.triage import apply_provisional, apply_triage, classify_quick

    text(engine, settings, "+85512000360", PLAIN, 0)
    screened = classify_quick(PLAIN)
    assert screened.urgency != "urgent"
    screened.urgency = "urgent"  # what classify_screened returns when the screen's score is high
    screened.reasons.append({"kind": "provisional", "rule": "provisional/screen", "score": 0.9})
    with Session(engine) as s:
        report = s.exec(select(Report)).one()
        assert apply_provisional(s, report, screened)
        assert (report.urgency, report.status) == ("urgent", "triaged")
        result = apply_triage(s, report, PLAIN)
        assert result.urgency != "urgent"
        assert report.urgency == result.urgency, "the full reading decides a screen-only urgency"
        lowered = [r for r in report.triage_reasons if r.get("rule") == "provisional/screen_lowered"]
        assert lowered and lowered[0]["urgency"] == result.urgency
        assert not any(r.get("rule") == "provisional/kept_urgent" for r in report.triage_reasons)


def test_under_a_backlog_the_full_triage_reads_the_newest_first_and_each_once(  # type: ignore[no-untyped-def]
    engine, settings, seeded, monkeypatch
) -> None:
    monkeypatch.setattr(FullTriage, "BACKLOG", 4)
    for i in range(7):
        text(engine, settings, f"+8551200037{i}", f"{PLAIN} (visit {i})", 0)
    with Session(engine) as s:
        ids = sorted(r.id for r in s.exec(select(Report)).all())
    triage = FullTriage(engine)
    assert triage.backlogged()
    assert triage.run(limit=2) == 2
    with Session(engine) as s:
        done = {r.id for r in s.exec(select(Report).where(col(Report.triage_confidence).is_not(None))).all()}
    assert done == set(ids[-2:]), "more than BACKLOG waiting: the newest first"
    assert triage.run(limit=1) == 1  # five waiting, still more than four
    assert triage.run() == 4  # four waiting: oldest first again, to the end
    assert not triage.backlogged()
    assert triage.run() == 0
    with Session(engine) as s:
        full = s.exec(select(ReportEvent).where(ReportEvent.kind == "triage")).all()
        per_report = [e.report_id for e in full if not e.detail.get("provisional")]
        assert sorted(per_report) == ids, "each report fully triaged exactly once"
        assert {r.status for r in s.exec(select(Report)).all()} == {"triaged"}


def test_on_sqlite_the_quick_step_reads_without_holding_the_write_lock(engine, settings, seeded, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """SQLite has one writer and every webhook waits for it: the quick step reads and classifies
    on a snapshot, and takes the write lock only to store what it decided."""
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's one writer")
    import sqlite3

    from service.triage import tasks as triage_tasks

    for i in range(3):
        text(engine, settings, f"+8551200039{i}", f"{PLAIN} (visit {i})", 0)
    text(engine, settings, "+85512000395", DETENTION, 0)
    real, locked = triage_tasks.classify_screened, []

    def classify(narrative: str):  # type: ignore[no-untyped-def]
        other = sqlite3.connect(engine.url.database, timeout=0)  # a webhook's write, not waiting
        try:
            other.execute("BEGIN IMMEDIATE")
            other.rollback()
        except sqlite3.OperationalError as exc:
            locked.append(str(exc))
        finally:
            other.close()
        return real(narrative)

    monkeypatch.setattr(triage_tasks, "classify_screened", classify)
    assert triage_tasks.read_quick_chunk(engine) == (1, 4)
    assert locked == [], "a webhook would have waited for the quick step's classification"
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(Report).where(col(Report.triage_language).is_not(None))).one() == 4



def test_a_worker_reads_new_reports_one_quick_reading_at_a_time(engine, settings, seeded, smtp) -> None:  # type: ignore[no-untyped-def]
    """The looping worker's urgent lane and its pass (its urgent step, and the one before each
    full-triage chunk) share one reading: the pass waits while the lane reads, instead of reading
    the same new reports beside it (on SQLite, on another snapshot: classified twice)."""
    people(engine)
    text(engine, settings, "+85512000320", DETENTION, 0)
    worker = Worker(engine, settings)
    done: list[int] = []
    with worker.ctx.quick_reading:  # the lane reading
        step = threading.Thread(target=lambda: done.append(worker.run("urgent")), daemon=True)
        step.start()
        step.join(1.0)
        assert step.is_alive(), "the pass's step waits for the reading under way"
        with Session(engine) as s:
            assert _report_of(s, "ប៉ូលីស").status == "received"
    step.join(60)
    assert done == [1], "then it reads what is left"
    assert [m["To"] for m in smtp.messages] == ["handler@khana.example"]
