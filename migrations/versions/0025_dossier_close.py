"""dossier.closed_at, closed_by, closed_reason: a supervisor closes a dossier with a short reason

Revision ID: 0025
Revises: 0024
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel

import service.kit.models
from alembic import op

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('dossier') as batch:
        batch.add_column(sa.Column('closed_at', service.kit.models.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('closed_by', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True))
        batch.add_column(sa.Column('closed_reason', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True))


def downgrade() -> None:
    # A closed dossier keeps its status "closed" (0024 knew it); only when, by whom and why are lost.
    with op.batch_alter_table('dossier') as batch:
        batch.drop_column('closed_reason')
        batch.drop_column('closed_by')
        batch.drop_column('closed_at')
