"""report.fee_cents, fee_currency, fee_source, fee_reasons: an informal fee named in a report, as a number

Revision ID: 0022
Revises: 0021
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('report') as batch:
        batch.add_column(sa.Column('fee_cents', sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column('fee_currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=True))
        batch.add_column(sa.Column('fee_source', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
        batch.add_column(sa.Column('fee_reasons', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('report') as batch:
        for column in ('fee_reasons', 'fee_source', 'fee_currency', 'fee_cents'):
            batch.drop_column(column)
