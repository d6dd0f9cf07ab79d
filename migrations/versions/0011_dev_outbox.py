"""development outbox: messages the dev delivery driver caught instead of sending

Revision ID: 0011
Revises: 0008
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel

import service.kit.models
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('dev_outbox_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('outbound_id', sa.Integer(), nullable=True),
    sa.Column('report_id', sa.Integer(), nullable=True),
    sa.Column('route', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('to_masked', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('content_sealed', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', service.kit.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )


def downgrade() -> None:
    op.drop_table('dev_outbox_message')
