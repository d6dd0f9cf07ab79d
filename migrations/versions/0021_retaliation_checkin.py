"""retaliation_checkin: the retaliation watch's check-ins (+7 and +30 days after an escalation that names
a facility or an authority), their answers and the urgent case a "yes" opened

Revision ID: 0021
Revises: 0020
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel

import service.kit.models
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('retaliation_checkin',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('escalation_id', sa.Integer(), nullable=True),
    sa.Column('place_id', sa.Integer(), nullable=True),
    sa.Column('day', sa.Integer(), nullable=False),
    sa.Column('due_at', service.kit.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('skip_reason', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('sent_at', service.kit.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('answer', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
    sa.Column('answered_at', service.kit.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('followup_report_id', sa.Integer(), nullable=True),
    sa.Column('created_at', service.kit.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['escalation_id'], ['escalation.id'], ),
    sa.ForeignKeyConstraint(['followup_report_id'], ['report.id'], ),
    sa.ForeignKeyConstraint(['place_id'], ['place.id'], ),
    sa.ForeignKeyConstraint(['report_id'], ['report.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('report_id', 'day', name='uq_retaliation_checkin_day')
    )
    op.create_index(op.f('ix_retaliation_checkin_due_at'), 'retaliation_checkin', ['due_at'], unique=False)
    op.create_index(op.f('ix_retaliation_checkin_place_id'), 'retaliation_checkin', ['place_id'], unique=False)
    op.create_index(op.f('ix_retaliation_checkin_report_id'), 'retaliation_checkin', ['report_id'], unique=False)
    op.create_index(op.f('ix_retaliation_checkin_status'), 'retaliation_checkin', ['status'], unique=False)


def downgrade() -> None:
    for name in ('status', 'report_id', 'place_id', 'due_at'):
        op.drop_index(op.f(f'ix_retaliation_checkin_{name}'), table_name='retaliation_checkin')
    op.drop_table('retaliation_checkin')
