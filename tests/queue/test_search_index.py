"""The SQLite search index is filled by the worker (migration 0008), and search never misses a report.

Every test runs on both backends: on PostgreSQL the worker step does nothing (pg_trgm is kept by
PostgreSQL) and search must give the same answers.
"""

from __future__ import annotations

import pytest
from sqlalchemy import delete, text
from sqlmodel import Session, SQLModel

import bots.telegram.models  # noqa: F401  (the Telegram adapter's tables)
import service.models  # noqa: F401  (every table, for the foreign keys)
from service.orgs.service import create_org, create_user
from service.outbox.worker import Worker
from service.queue import search_index
from service.queue import service as queue
from service.queue.service import Filters
from service.reports.models import Report
from service.reports.service import append_narrative, withdraw
from tests.support.review import make_report


@pytest.fixture
def user(engine):  # type: ignore[no-untyped-def]
    with Session(engine, expire_on_commit=False) as s:
        create_org(s, slug="org-s", name="S")
        handler = create_user(s, email="h@s.test", org_slug="org-s", role="handler", password="correct-horse-battery")
        s.commit()
        return handler


def found(s: Session, user, q: str) -> list[int]:  # type: ignore[no-untyped-def]
    page = queue.queue_page(s, user=user, filters=Filters(q=q, status=("all",)))
    return [i.report.id for i in page.items]  # type: ignore[misc]


def in_index(s: Session, word: str) -> set[int]:
    """Report ids the FTS5 table itself returns (SQLite only)."""
    rows = s.connection().execute(text("SELECT rowid FROM report_fts WHERE report_fts MATCH :q"),
                                  {"q": f'"{word}"'}).all()
    return {r[0] for r in rows}


def index_matches_reports(s: Session) -> None:
    """FTS5's own check that the index holds exactly the trigrams of the content table."""
    s.connection().execute(text("INSERT INTO report_fts(report_fts, rank) VALUES ('integrity-check', 1)"))


def mark(s: Session) -> int:
    return s.connection().execute(text("SELECT indexed_upto FROM report_fts_state")).scalar_one()


@pytest.fixture(params=[1, 1000], ids=["index-path", "window-path"])
def window(request, monkeypatch):  # type: ignore[no-untyped-def]
    """A window of 1 row makes the queue use the search condition (index + tail) at once."""
    monkeypatch.setattr(queue, "SEARCH_WINDOW", request.param)
    return request.param


def test_a_fresh_report_is_found_before_and_after_the_worker_indexes_it(engine, settings, user, window) -> None:
    with Session(engine, expire_on_commit=False) as s:
        others = [make_report(s, org_id=user.org_id, text="nobody came to the health centre") for _ in range(3)]
        fresh = make_report(s, org_id=user.org_id, text="The methadone clinic was closed")
        s.commit()
        sqlite = s.get_bind().dialect.name == "sqlite"
        assert search_index.pending_count(s) == (4 if sqlite else 0)
        if sqlite:
            assert in_index(s, "methadone") == set()  # not indexed yet ...
        assert found(s, user, "Methadone") == [fresh.id]  # ... and found all the same
        assert found(s, user, "khmer-nothing") == []

    assert Worker(engine, settings).index_search() == (4 if sqlite else 0)
    assert Worker(engine, settings).index_search() == 0  # nothing left

    with Session(engine, expire_on_commit=False) as s:
        assert search_index.pending_count(s) == 0
        assert found(s, user, "Methadone") == [fresh.id]
        assert set(found(s, user, "health centre")) == {r.id for r in others}
        if sqlite:
            assert in_index(s, "methadone") == {fresh.id}
            assert mark(s) == fresh.id
            index_matches_reports(s)


def test_the_worker_indexes_in_batches_in_id_order(engine, user) -> None:
    with Session(engine, expire_on_commit=False) as s:
        reports = [make_report(s, org_id=user.org_id, text=f"clinic number {i} asked for money") for i in range(5)]
        s.commit()
        if s.get_bind().dialect.name != "sqlite":
            assert search_index.index_new_reports(s, limit=2) == 0
            return
        assert search_index.index_new_reports(s, limit=2) == 2
        assert mark(s) == reports[1].id and search_index.pending_count(s) == 3
        assert search_index.index_new_reports(s, limit=2) == 2
        assert search_index.index_new_reports(s, limit=2) == 1
        assert search_index.index_new_reports(s, limit=2) == 0
        s.commit()
        assert in_index(s, "money") == {r.id for r in reports}
        index_matches_reports(s)


def test_an_edited_or_withdrawn_narrative_is_reindexed(engine, settings, user, window) -> None:
    with Session(engine, expire_on_commit=False) as s:
        report = make_report(s, org_id=user.org_id, text="first words")
        s.commit()
    Worker(engine, settings).index_search()
    with Session(engine, expire_on_commit=False) as s:
        report = s.get(Report, report.id)
        append_narrative(s, report, "methadone clinic closed")
        s.commit()
        assert found(s, user, "methadone") == [report.id]
        sqlite = s.get_bind().dialect.name == "sqlite"
        if sqlite:
            assert in_index(s, "methadone") == {report.id}
            index_matches_reports(s)
        withdraw(s, report)
        s.commit()
        assert found(s, user, "methadone") == []
        assert found(s, user, "first words") == []
        if sqlite:
            assert in_index(s, "methadone") == set()
            index_matches_reports(s)


def test_an_unindexed_report_edited_before_the_worker_comes_is_indexed_as_it_is_then(engine, settings, user) -> None:
    with Session(engine, expire_on_commit=False) as s:
        report = make_report(s, org_id=user.org_id, text="first words")
        s.commit()
        append_narrative(s, report, "methadone clinic closed")  # the UPDATE trigger must leave the index alone
        s.commit()
        assert found(s, user, "methadone") == [report.id]
    Worker(engine, settings).index_search()
    with Session(engine, expire_on_commit=False) as s:
        assert found(s, user, "methadone") == [report.id]
        if s.get_bind().dialect.name == "sqlite":
            assert in_index(s, "methadone") == {report.id}
            index_matches_reports(s)


def test_a_deleted_report_leaves_the_index_and_a_reused_id_is_not_lost(engine, settings, user, window) -> None:
    with Session(engine, expire_on_commit=False) as s:
        kept = make_report(s, org_id=user.org_id, text="the methadone dose was late")
        unindexed_gone = None
        last = make_report(s, org_id=user.org_id, text="the methadone clinic was closed")
        s.commit()
    Worker(engine, settings).index_search()
    with Session(engine, expire_on_commit=False) as s:
        unindexed_gone = make_report(s, org_id=user.org_id, text="methadone again, never indexed")
        s.commit()
        # Delete an indexed report (the highest indexed id) and one the worker never saw.
        gone = [last.id, unindexed_gone.id]
        for table in reversed(SQLModel.metadata.sorted_tables):  # the case timeline etc. first
            for fk in table.foreign_keys:
                if fk.column.table.name == "report" and table.name != "report":
                    s.execute(delete(table).where(fk.parent.in_(gone)))
        s.execute(delete(Report).where(Report.id.in_(gone)))  # type: ignore[attr-defined]
        s.commit()
        assert found(s, user, "methadone") == [kept.id]
        sqlite = s.get_bind().dialect.name == "sqlite"
        if sqlite:
            assert in_index(s, "methadone") == {kept.id}
            assert mark(s) == kept.id  # lowered: SQLite may hand the deleted ids out again
            index_matches_reports(s)
        # A new report may get a deleted report's id: it must count as not indexed yet.
        reused = make_report(s, org_id=user.org_id, text="a methadone question")
        s.commit()
        assert set(found(s, user, "methadone")) == {kept.id, reused.id}
        if sqlite:
            assert reused.id > mark(s)
    assert Worker(engine, settings).index_search() == (1 if sqlite else 0)
    with Session(engine, expire_on_commit=False) as s:
        assert set(found(s, user, "methadone")) == {kept.id, reused.id}
        if sqlite:
            assert in_index(s, "methadone") == {kept.id, reused.id}
            index_matches_reports(s)


def test_search_sql_is_safe_for_like_and_fts_syntax(engine, settings, user) -> None:
    with Session(engine, expire_on_commit=False) as s:
        plain = make_report(s, org_id=user.org_id, text="paid 100% of the fee_total")
        s.commit()
        assert found(s, user, "100%") == [plain.id]
        assert found(s, user, "fee_t") == [plain.id]
        assert found(s, user, "1_0") == []
        assert found(s, user, 'x" OR "y') == []
    Worker(engine, settings).index_search()
    with Session(engine, expire_on_commit=False) as s:
        assert found(s, user, "100%") == [plain.id]
        assert found(s, user, "1_0") == []


def test_sqlite_search_objects_at_head(engine) -> None:
    """No trigger on INSERT (the webhook's path); the UPDATE and DELETE ones and the mark exist."""
    with Session(engine) as s:
        if s.get_bind().dialect.name != "sqlite":
            names = set(s.connection().execute(text("SELECT indexname FROM pg_indexes WHERE tablename = 'report'"))
                        .scalars())
            assert "ix_report_narrative_trgm" in names
            return
        triggers = set(s.connection().execute(
            text("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'report'")).scalars())
        assert triggers == {"report_fts_ad", "report_fts_au"}
        assert s.connection().execute(text("SELECT count(*) FROM report_fts_state")).scalar_one() == 1


def test_a_worker_pass_indexes_everything_waiting_in_short_transactions(engine, settings, user, monkeypatch) -> None:
    with Session(engine, expire_on_commit=False) as s:
        reports = [make_report(s, org_id=user.org_id, text=f"report {i} about the pharmacy") for i in range(7)]
        s.commit()
        sqlite = s.get_bind().dialect.name == "sqlite"
    worker = Worker(engine, settings)
    monkeypatch.setattr(worker, "SEARCH_BATCH", 3)
    monkeypatch.setattr(worker, "SEARCH_BATCHES", 2)
    assert worker.index_search() == (6 if sqlite else 0)  # two batches of 3, the rest next pass
    assert worker.index_search() == (1 if sqlite else 0)
    with Session(engine, expire_on_commit=False) as s:
        assert set(found(s, user, "pharmacy")) == {r.id for r in reports}
        if sqlite:
            assert in_index(s, "pharmacy") == {r.id for r in reports}
            index_matches_reports(s)


def test_migration_0008_indexes_what_is_there_and_downgrades_cleanly(tmp_path) -> None:
    """SQLite: upgrading a database with reports puts the mark after them; downgrading brings back
    0005's three triggers over a complete index. FTS5's integrity-check after each step."""
    from alembic import command
    from sqlalchemy import create_engine

    from service.kit.clock import now
    from service.migrate import alembic_config, upgrade

    url = f"sqlite:///{tmp_path / 'm.db'}"
    upgrade(url)
    cfg = alembic_config(url)
    command.downgrade(cfg, "0008-1")  # 0005: the INSERT trigger indexes these reports
    engine = create_engine(url)

    def state(conn, *, complete: bool = True):  # type: ignore[no-untyped-def]
        triggers = set(conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars())
        hits = set(conn.execute(text("SELECT rowid FROM report_fts WHERE report_fts MATCH '\"clinic\"'")).scalars())
        # rank 0: the index is sound; rank 1: it also holds exactly the content table's rows, which
        # is only true while no report waits for the worker.
        conn.execute(text("INSERT INTO report_fts(report_fts, rank) VALUES ('integrity-check', :full)"),
                     {"full": int(complete)})
        assert conn.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
        return triggers, hits

    with engine.begin() as conn:
        for i in range(3):
            conn.execute(Report.__table__.insert(), {  # type: ignore[attr-defined]
                "receipt_hash": f"hash-{i}", "channel": "sms", "narrative_masked": f"the clinic {i} was closed",
                "created_at": now(), "updated_at": now()})
        assert state(conn) == ({"report_fts_ai", "report_fts_ad", "report_fts_au"}, {1, 2, 3})
    command.upgrade(cfg, "0008")
    with engine.begin() as conn:
        assert state(conn) == ({"report_fts_ad", "report_fts_au"}, {1, 2, 3})
        assert conn.execute(text("SELECT indexed_upto FROM report_fts_state")).scalar_one() == 3
        conn.execute(Report.__table__.insert(), {  # type: ignore[attr-defined]
            "receipt_hash": "hash-new", "channel": "sms", "narrative_masked": "a new clinic report",
            "created_at": now(), "updated_at": now()})
        assert state(conn, complete=False)[1] == {1, 2, 3}  # the worker has not run: not in the index yet
    command.downgrade(cfg, "0008-1")
    with engine.begin() as conn:
        assert state(conn) == ({"report_fts_ai", "report_fts_ad", "report_fts_au"}, {1, 2, 3, 4})
    engine.dispose()
