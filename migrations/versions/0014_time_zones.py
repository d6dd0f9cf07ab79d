"""time zones: an organisation's zone and a user's own choice (times stay UTC in the database)

Revision ID: 0014
Revises: 0011
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('organisation') as batch:
        batch.add_column(sa.Column('time_zone', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
    with op.batch_alter_table('app_user') as batch:
        batch.add_column(sa.Column('time_zone', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('app_user') as batch:
        batch.drop_column('time_zone')
    with op.batch_alter_table('organisation') as batch:
        batch.drop_column('time_zone')
