"""telegram bot: pending updates, chat state, evidence, outreach agents, place coordinates

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-23 12:00:23.322219
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel

import service.kit.models
from alembic import op


revision = '0004'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('pending_update',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('external_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('payload_sealed', sa.LargeBinary(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('received_at', service.kit.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('processed_at', service.kit.models.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('channel', 'external_id', name='uq_pending_channel_external')
    )
    with op.batch_alter_table('pending_update', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pending_update_processed_at'), ['processed_at'], unique=False)

    op.create_table('telegram_trace',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reporter_id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('created_at', service.kit.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['reporter_id'], ['reporter.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('telegram_trace', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_telegram_trace_reporter_id'), ['reporter_id'], unique=False)

    op.create_table('agent_link_code',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('created_by_user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', service.kit.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', service.kit.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', service.kit.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_user_id'], ['app_user.id'], ),
    sa.ForeignKeyConstraint(['org_id'], ['organisation.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('agent_link_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agent_link_code_code_hash'), ['code_hash'], unique=True)
        batch_op.create_index(batch_op.f('ix_agent_link_code_created_by_user_id'), ['created_by_user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_agent_link_code_org_id'), ['org_id'], unique=False)

    op.create_table('outreach_agent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pseudonym', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('linked_by_user_id', sa.Integer(), nullable=False),
    sa.Column('linked_at', service.kit.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', service.kit.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['linked_by_user_id'], ['app_user.id'], ),
    sa.ForeignKeyConstraint(['org_id'], ['organisation.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('outreach_agent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outreach_agent_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outreach_agent_pseudonym'), ['pseudonym'], unique=True)

    op.create_table('evidence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('stored_name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('mime', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('created_at', service.kit.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['report.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('stored_name')
    )
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evidence_report_id'), ['report_id'], unique=False)

    op.create_table('telegram_chat',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reporter_id', sa.Integer(), nullable=False),
    sa.Column('exit_report_id', sa.Integer(), nullable=True),
    sa.Column('exit_code_sealed', sa.LargeBinary(), nullable=True),
    sa.Column('updated_at', service.kit.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['exit_report_id'], ['report.id'], ),
    sa.ForeignKeyConstraint(['reporter_id'], ['reporter.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('telegram_chat', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_telegram_chat_reporter_id'), ['reporter_id'], unique=True)

    with op.batch_alter_table('place', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lat', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('lon', sa.Float(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('place', schema=None) as batch_op:
        batch_op.drop_column('lon')
        batch_op.drop_column('lat')

    with op.batch_alter_table('telegram_chat', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_telegram_chat_reporter_id'))

    op.drop_table('telegram_chat')
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evidence_report_id'))

    op.drop_table('evidence')
    with op.batch_alter_table('outreach_agent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outreach_agent_pseudonym'))
        batch_op.drop_index(batch_op.f('ix_outreach_agent_org_id'))

    op.drop_table('outreach_agent')
    with op.batch_alter_table('agent_link_code', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agent_link_code_org_id'))
        batch_op.drop_index(batch_op.f('ix_agent_link_code_created_by_user_id'))
        batch_op.drop_index(batch_op.f('ix_agent_link_code_code_hash'))

    op.drop_table('agent_link_code')
    with op.batch_alter_table('telegram_trace', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_telegram_trace_reporter_id'))

    op.drop_table('telegram_trace')
    with op.batch_alter_table('pending_update', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pending_update_processed_at'))

    op.drop_table('pending_update')
