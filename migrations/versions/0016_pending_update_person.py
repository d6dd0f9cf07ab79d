"""pending_update.person: the sender's pseudonym, so one person's stored updates are handled in order
by whichever process takes them

Revision ID: 0016
Revises: 0011
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('pending_update') as batch:
        batch.add_column(sa.Column('person', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
    op.create_index('ix_pending_update_person', 'pending_update', ['person'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_pending_update_person', table_name='pending_update')
    with op.batch_alter_table('pending_update') as batch:
        batch.drop_column('person')
