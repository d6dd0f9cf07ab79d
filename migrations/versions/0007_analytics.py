"""analytics: approved quotes and report time indexes

Revision ID: 0007
Revises: 0006
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel

import service.kit.models
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('approved_quote',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('excerpt_masked', sa.Text(), nullable=False),
    sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('approved_by', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('approved_at', service.kit.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', service.kit.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['report_id'], ['report.id'], name='fk_approved_quote_report_id'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('approved_quote', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_approved_quote_report_id'), ['report_id'], unique=False)
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.create_index('ix_report_created_at', ['created_at'], unique=False)
        batch_op.create_index('ix_report_place_created', ['place_id', 'created_at'], unique=False)
        batch_op.create_index('ix_report_updated_at', ['updated_at'], unique=False)
    op.create_table('report_rollup',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('province_id', sa.Integer(), nullable=False),
    sa.Column('dim', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('value', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('hours_sum', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_report_rollup_dim_day', 'report_rollup', ['dim', 'day'], unique=False)
    op.create_index('ix_report_rollup_day', 'report_rollup', ['day'], unique=False)
    op.create_table('analytics_state',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('at', service.kit.models.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('key')
    )


def downgrade() -> None:
    op.drop_table('analytics_state')
    op.drop_index('ix_report_rollup_day', table_name='report_rollup')
    op.drop_index('ix_report_rollup_dim_day', table_name='report_rollup')
    op.drop_table('report_rollup')
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.drop_index('ix_report_updated_at')
        batch_op.drop_index('ix_report_place_created')
        batch_op.drop_index('ix_report_created_at')
    with op.batch_alter_table('approved_quote', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_approved_quote_report_id'))
    op.drop_table('approved_quote')
