"""The SQLite narrative search index (FTS5 trigram), filled by the worker, not by the webhook.

`report_fts` (migration 0005) holds the trigrams of `report.narrative_masked`. Since
migration 0008 no trigger fills it on INSERT: the trigram tokenizer cost the SMS webhook's
writer ~0.1-0.2 ms per report (docs/benchmarks-history.md). Instead:

- `report_fts_state.indexed_upto` is a high-water mark: every report with id <= mark is in
  the index, none above it is;
- the worker calls `index_new_reports` each pass (every 2 s by default), which indexes the
  reports above the mark in id order, a batch at a time, and moves the mark;
- an edited or masked narrative of an indexed report is re-indexed by the UPDATE trigger, a
  deleted report leaves the index by the DELETE trigger (both only for ids <= mark);
- search reads the index for ids <= mark and tests the unindexed tail, a rowid range
  (ids > mark), with a substring match, so a report is findable the moment it is stored.

SQLite serialises writers (BEGIN IMMEDIATE, service/db.py), so no report can be committed
below the mark while the worker moves it. PostgreSQL's pg_trgm GIN index is kept by
PostgreSQL itself: there `index_new_reports` does nothing.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session

MARK_SQL = "(SELECT indexed_upto FROM report_fts_state WHERE id = 1)"  # a scalar subquery
_READ_MARK = "SELECT indexed_upto FROM report_fts_state WHERE id = 1"
BATCH = 500


def _sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def index_new_reports(session: Session, *, limit: int = BATCH) -> int:
    """Index up to `limit` reports stored since the last call (SQLite); returns how many."""
    if not _sqlite(session):
        return 0
    conn = session.connection()
    mark = conn.execute(text(_READ_MARK)).scalar_one()
    upto, count = conn.execute(
        text("SELECT max(id), count(*) FROM (SELECT id FROM report WHERE id > :mark ORDER BY id LIMIT :limit)"),
        {"mark": mark, "limit": limit},
    ).one()
    if not count:
        return 0
    conn.execute(
        text(
            "INSERT INTO report_fts(rowid, narrative_masked) "
            "SELECT id, narrative_masked FROM report WHERE id > :mark AND id <= :upto"
        ),
        {"mark": mark, "upto": upto},
    )
    conn.execute(text("UPDATE report_fts_state SET indexed_upto = :upto WHERE id = 1"), {"upto": upto})
    return int(count)


def pending_count(session: Session) -> int:
    """Reports not yet in the SQLite search index (0 on PostgreSQL)."""
    if not _sqlite(session):
        return 0
    return int(session.connection().execute(text(f"SELECT count(*) FROM report WHERE id > {MARK_SQL}")).scalar_one())


def rebuild(session: Session) -> int:
    """Index every report from scratch (SQLite; after a bulk load): returns the new mark."""
    if not _sqlite(session):
        return 0
    conn = session.connection()
    conn.execute(text("INSERT INTO report_fts(report_fts) VALUES ('rebuild')"))
    conn.execute(
        text("UPDATE report_fts_state SET indexed_upto = (SELECT coalesce(max(id), 0) FROM report) WHERE id = 1")
    )
    return int(conn.execute(text(_READ_MARK)).scalar_one())
