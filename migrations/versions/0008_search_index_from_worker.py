"""SQLite search index kept by the worker: no FTS5 trigger on INSERT into `report`

Revision ID: 0008
Revises: 0005
Create Date: 2026-11-23 15:00:00

On SQLite, 0005 kept `report_fts` (FTS5 trigram) up to date with three triggers. The
INSERT trigger put the trigram tokenizer on the SMS webhook's write path (~0.1-0.2 ms per
report, issue 2's benchmark). Now:

- `report_fts_state.indexed_upto` is a high-water mark: every report with id <= it is in
  `report_fts`, no report above it is.
- The worker (`Worker.index_search`, service/queue/search_index.py) indexes the reports
  above the mark in batches and moves the mark.
- The UPDATE and DELETE triggers stay, but only touch `report_fts` for a report that is
  already indexed (an external-content FTS5 table must never be told to delete a row it
  does not hold: that corrupts the index). On every deleted row the DELETE trigger also
  lowers the mark to the largest remaining id, so a reused rowid (SQLite gives
  max(rowid)+1) can never sit below the mark unindexed.
- Search (service/queue/service.py `search_condition`) reads the index for ids <= mark and
  tests the unindexed tail (ids > mark, a rowid range) with a substring match.

PostgreSQL is unchanged (pg_trgm GIN index, maintained by PostgreSQL itself).
The state table's name starts with `report_fts`, so autogenerate and tests skip it like
the other raw-SQL search objects (service/queue/models.py SEARCH_OBJECT_PREFIXES).
"""
from __future__ import annotations

from alembic import op

revision = '0008'
down_revision = '0005'
branch_labels = None
depends_on = None

MARK = "(SELECT indexed_upto FROM report_fts_state WHERE id = 1)"

UPGRADE_SQLITE = [
    "CREATE TABLE IF NOT EXISTS report_fts_state (id INTEGER PRIMARY KEY CHECK (id = 1), "
    "indexed_upto INTEGER NOT NULL)",
    # Everything present is indexed (0005's triggers kept it so); rebuild to be sure.
    "INSERT INTO report_fts(report_fts) VALUES ('rebuild')",
    "INSERT OR REPLACE INTO report_fts_state (id, indexed_upto) VALUES (1, (SELECT coalesce(max(id), 0) FROM report))",
    "DROP TRIGGER IF EXISTS report_fts_ai",
    "DROP TRIGGER IF EXISTS report_fts_ad",
    "DROP TRIGGER IF EXISTS report_fts_au",
    # Every delete keeps mark <= max(id), also the delete of an unindexed row in a multi-row DELETE
    # (`DELETE ... WHERE id IN (mark, mark + 1)` removes the mark's row while a higher one is left).
    f"CREATE TRIGGER report_fts_ad AFTER DELETE ON report BEGIN "
    f"INSERT INTO report_fts(report_fts, rowid, narrative_masked) "
    f"SELECT 'delete', old.id, old.narrative_masked WHERE old.id <= {MARK}; "
    "UPDATE report_fts_state SET indexed_upto = (SELECT coalesce(max(id), 0) FROM report) "
    "WHERE id = 1 AND indexed_upto > (SELECT coalesce(max(id), 0) FROM report); END",
    f"CREATE TRIGGER report_fts_au AFTER UPDATE OF narrative_masked ON report WHEN old.id <= {MARK} BEGIN "
    "INSERT INTO report_fts(report_fts, rowid, narrative_masked) VALUES ('delete', old.id, old.narrative_masked); "
    "INSERT INTO report_fts(rowid, narrative_masked) VALUES (new.id, new.narrative_masked); END",
]

DOWNGRADE_SQLITE = [
    "DROP TRIGGER IF EXISTS report_fts_ad",
    "DROP TRIGGER IF EXISTS report_fts_au",
    "DROP TABLE IF EXISTS report_fts_state",
    # 0005's three triggers, and an index that holds every report again.
    "CREATE TRIGGER report_fts_ai AFTER INSERT ON report BEGIN "
    "INSERT INTO report_fts(rowid, narrative_masked) VALUES (new.id, new.narrative_masked); END",
    "CREATE TRIGGER report_fts_ad AFTER DELETE ON report BEGIN "
    "INSERT INTO report_fts(report_fts, rowid, narrative_masked) VALUES ('delete', old.id, old.narrative_masked); END",
    "CREATE TRIGGER report_fts_au AFTER UPDATE OF narrative_masked ON report BEGIN "
    "INSERT INTO report_fts(report_fts, rowid, narrative_masked) VALUES ('delete', old.id, old.narrative_masked); "
    "INSERT INTO report_fts(rowid, narrative_masked) VALUES (new.id, new.narrative_masked); END",
    "INSERT INTO report_fts(report_fts) VALUES ('rebuild')",
]


def upgrade() -> None:
    if op.get_bind().dialect.name != 'sqlite':
        return
    for statement in UPGRADE_SQLITE:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != 'sqlite':
        return
    for statement in DOWNGRADE_SQLITE:
        op.execute(statement)
