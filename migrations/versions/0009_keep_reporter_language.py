"""Keep each reporter's language: fill reporter.language from their latest report (km, pt)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 21:00:00

A reporter is now answered in the language kept with their pseudonym (reporter.language),
whatever script a later message uses (docs/channels.md, "The reporter's language is kept").
Until now that column was only set by the KH/EN keywords, so a Khmer reporter who had
already made a report would still get English when typing `STATUS <code>` in Latin letters.

This fills the column, where it is empty, from the reporter's latest report — only when
that report was in Khmer or Portuguese: those were chosen from the text itself (Khmer
script, Portuguese words), whereas an English report language was the old default and
says nothing. No schema change (the column exists since 0001); grievance bodies already
have a `language` column (0006), which may now also hold `pt`.

Downgrade leaves the values in place: they are correct under either revision.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    reporter = sa.table("reporter", sa.column("id", sa.Integer), sa.column("language", sa.String))
    report = sa.table("report", sa.column("id", sa.Integer), sa.column("reporter_id", sa.Integer),
                      sa.column("language", sa.String), sa.column("created_at", sa.DateTime))
    latest = (
        sa.select(report.c.language)
        .where(report.c.reporter_id == reporter.c.id)
        .order_by(report.c.created_at.desc(), report.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    op.execute(
        reporter.update()
        .where(reporter.c.language.is_(None), latest.in_(("km", "pt")))
        .values(language=latest)
    )


def downgrade() -> None:
    pass
