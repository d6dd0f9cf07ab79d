"""SQLite search index kept by the worker: no FTS5 trigger on INSERT into `report`

Revision ID: 0008
Revises: 0005
Create Date: 2026-11-23 15:00:00

On SQLite, 0005 kept `report_fts` (FTS5 trigram) up to date with three triggers. The
INSERT trigger put the trigram tokenizer on the SMS webhook's write path (~0.1-0.2 ms per
report, the intake benchmark). Now:

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

PostgreSQL keeps its search as it was (pg_trgm GIN index, maintained by PostgreSQL itself).

Both databases: three single-column indexes on `report` that are a strict prefix of a wider
index are dropped (org_id: ix_report_queue_org, urgency: ix_report_queue_all, place_id:
ix_report_place_created), and three on columns that are NULL when a report arrives and are
only ever looked up by value become partial (WHERE ... IS NOT NULL): cluster_id,
assigned_user_id, due_at. Each index cost every webhook INSERT ~4 us of CPU on SQLite.
The state table's name starts with `report_fts`, so autogenerate and tests skip it like
the other raw-SQL search objects (service/queue/models.py SEARCH_OBJECT_PREFIXES).
"""
from __future__ import annotations

import sqlalchemy as sa
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


def create_search() -> None:
    """SQLite: this revision's search triggers again (idempotent). A later migration that
    rebuilds `report` in batch mode drops them: call this at its end (not 0005's)."""
    if op.get_bind().dialect.name != 'sqlite':
        return
    for statement in UPGRADE_SQLITE:
        if statement.startswith('CREATE TRIGGER'):
            op.execute(statement.replace('CREATE TRIGGER', 'CREATE TRIGGER IF NOT EXISTS', 1))


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


# Indexes on `report` that every INSERT paid for without a query needing them (both databases):
# a strict prefix of a wider index, or a column that is NULL on arrival and only looked up by value.
PREFIX_OF_WIDER = {'ix_report_org_id': 'org_id', 'ix_report_urgency': 'urgency', 'ix_report_place_id': 'place_id'}
NOT_NULL_ONLY = ('cluster_id', 'assigned_user_id', 'due_at')


def upgrade() -> None:
    # Plain drop/create index: never batch-alter `report` on SQLite (it would drop the FTS triggers).
    for name in PREFIX_OF_WIDER:
        op.drop_index(name, table_name='report')
    for column in NOT_NULL_ONLY:
        op.drop_index(f'ix_report_{column}', table_name='report')
        where = sa.text(f'{column} IS NOT NULL')
        op.create_index(f'ix_report_{column}', 'report', [column], unique=False,
                        sqlite_where=where, postgresql_where=where)
    if op.get_bind().dialect.name == 'sqlite':
        for statement in UPGRADE_SQLITE:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        for statement in DOWNGRADE_SQLITE:
            op.execute(statement)
    for column in reversed(NOT_NULL_ONLY):
        op.drop_index(f'ix_report_{column}', table_name='report')
        op.create_index(f'ix_report_{column}', 'report', [column], unique=False)
    for name, column in PREFIX_OF_WIDER.items():
        op.create_index(name, 'report', [column], unique=False)
