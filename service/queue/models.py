"""Indexes that serve the review queue (the columns live on `report`, service/reports/models.py).

Queue order is urgency, then deadline, then age. The query walks the queue one
(urgency, has-deadline) segment at a time, so each segment is an index range scan
in index order and keyset pagination never sorts (service/queue/service.py).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from service.kit.models import created_at_field, table_of
from service.reports.models import Report

MAX_TAG = 40

_t = table_of(Report)

QUEUE_INDEXES = (
    # The org's queue in queue order (due_at IS NULL is an equality prefix on both databases).
    Index("ix_report_queue_org", _t.c.org_id, _t.c.urgency, _t.c.due_at, _t.c.created_at, _t.c.id),
    # A platform administrator's queue over every organisation.
    Index("ix_report_queue_all", _t.c.urgency, _t.c.due_at, _t.c.created_at, _t.c.id),
    # Filters that are selective on their own within an organisation.
    Index("ix_report_org_status", _t.c.org_id, _t.c.status, _t.c.urgency, _t.c.due_at, _t.c.created_at),
    Index("ix_report_org_assigned", _t.c.org_id, _t.c.assigned_user_id, _t.c.urgency, _t.c.due_at),
    Index("ix_report_org_category", _t.c.org_id, _t.c.category, _t.c.urgency, _t.c.due_at),
    Index("ix_report_org_channel", _t.c.org_id, _t.c.channel, _t.c.urgency, _t.c.due_at),
    Index("ix_report_org_population", _t.c.org_id, _t.c.population, _t.c.urgency, _t.c.due_at),
    Index("ix_report_org_place", _t.c.org_id, _t.c.place_id, _t.c.urgency, _t.c.due_at),
    Index("ix_report_org_due", _t.c.org_id, _t.c.due_at),
    # Partial: almost every report has no cluster, and SQLite's statistics would count those NULLs
    # as one huge group and prefer another index (232 ms instead of 3 ms on a million cases).
    Index(
        "ix_report_org_cluster",
        _t.c.org_id,
        _t.c.cluster_id,
        _t.c.urgency,
        _t.c.due_at,
        sqlite_where=_t.c.cluster_id.isnot(None),
        postgresql_where=_t.c.cluster_id.isnot(None),
    ),
)

# Full-text objects made by the migration with raw SQL (not in the metadata; tests and
# autogenerate skip them): SQLite FTS5 table + triggers, PostgreSQL pg_trgm GIN index.
SEARCH_OBJECT_PREFIXES = ("report_fts", "ix_report_narrative_trgm")


def autogenerate_include_name(name: str | None, type_: str, parent_names: dict) -> bool:
    """Alembic `include_name` hook: leave the raw-SQL search objects out of comparisons."""
    return not (name and name.startswith(SEARCH_OBJECT_PREFIXES))


# Tags are written and read by service/supervision/tags.py; the queue filters by them.
class CaseTag(SQLModel, table=True):
    """A label a handler puts on a case ("police", "stock-out", "follow up Monday")."""

    __tablename__ = "case_tag"
    __table_args__ = (
        UniqueConstraint("report_id", "tag", name="uq_case_tag"),
        Index("ix_case_tag_org_tag", "org_id", "tag"),
    )
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id")
    report_id: int = Field(foreign_key="report.id", index=True)
    tag: str = Field(max_length=MAX_TAG)
    created_by: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = created_at_field()
