"""report.perpetrator_type, violation_type (+ their sources) and code_reasons: documentation codes of a
rights violation, suggested by triage and set by a handler

Revision ID: 0023
Revises: 0022
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('report') as batch:
        batch.add_column(sa.Column('perpetrator_type', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=True))
        batch.add_column(sa.Column('perpetrator_source', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True))
        batch.add_column(sa.Column('violation_type', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch.add_column(sa.Column('violation_source', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True))
        batch.add_column(sa.Column('code_reasons', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('report') as batch:
        for column in ('code_reasons', 'violation_source', 'violation_type', 'perpetrator_source', 'perpetrator_type'):
            batch.drop_column(column)
