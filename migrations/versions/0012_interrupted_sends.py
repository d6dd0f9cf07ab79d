"""interrupted sends: the outbox's "sending" mark, and the Telegram replies already sent per update

Revision ID: 0012
Revises: 0011
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel

import service.kit.models
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbound_message') as batch:
        batch.add_column(sa.Column('sending_at', service.kit.models.UTCDateTime(timezone=True), nullable=True))
    op.create_table('telegram_reply',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('update_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('created_at', service.kit.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('update_key', 'seq'),
    )
    op.create_index(op.f('ix_telegram_reply_update_key'), 'telegram_reply', ['update_key'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_telegram_reply_update_key'), table_name='telegram_reply')
    op.drop_table('telegram_reply')
    with op.batch_alter_table('outbound_message') as batch:
        batch.drop_column('sending_at')
