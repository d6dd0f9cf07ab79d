"""The analytics rollup keeps each report's LOCAL day (the zone of the organisation handling it): the
rows kept by UTC day are dropped and the rollup is marked unbuilt, so the worker's next analytics pass
(or `samleng analytics refresh --full`) rebuilds it; until then the pages count from the report table.

Revision ID: 0017
Revises: 0016
"""
from __future__ import annotations

from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DELETE FROM report_rollup")
    op.execute("DELETE FROM analytics_state WHERE key = 'rollup'")


def downgrade() -> None:
    # The UTC-day rollup is rebuilt the same way by the older code.
    op.execute("DELETE FROM report_rollup")
    op.execute("DELETE FROM analytics_state WHERE key = 'rollup'")
