"""Routing follows the case: report_route remembers the facts a case was routed on

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-05 21:00:00

`report_route` gets the category, place, urgency and population the case had when it was
routed. The worker compares them with the case's current facts and routes an automatically
routed case again when they differ (the reporter named the place after an urgent report was
routed, a handler corrected the category), until a person has acted on the case.
Existing routes are filled with their case's current facts, so nothing is routed again by
the upgrade itself.
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('report_route', schema=None) as batch_op:
        batch_op.add_column(sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))
        batch_op.add_column(sa.Column('place_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('urgency', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True))
        batch_op.add_column(sa.Column('population', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
    for column in ('category', 'place_id', 'urgency', 'population'):
        op.execute(f"UPDATE report_route SET {column} = "
                   f"(SELECT report.{column} FROM report WHERE report.id = report_route.report_id)")


def downgrade() -> None:
    with op.batch_alter_table('report_route', schema=None) as batch_op:
        batch_op.drop_column('population')
        batch_op.drop_column('urgency')
        batch_op.drop_column('place_id')
        batch_op.drop_column('category')
