"""escalation: grievance bodies, routing rules, escalations, pending questions, outbox claims

Revision ID: 0006
Revises: 0004
Create Date: 2026-11-23 11:58:43.260748
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel

import service.kit.models
from alembic import op


revision = '0006'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('grievance_body',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('name_en', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('name_km', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('level', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('network', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('categories', sa.JSON(), nullable=False),
    sa.Column('deadline_hours', sa.Integer(), nullable=True),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True),
    sa.Column('webhook_url', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('webhook_secret_sealed', sa.LargeBinary(), nullable=True),
    sa.Column('sms_sealed', sa.LargeBinary(), nullable=True),
    sa.Column('api_token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', service.kit.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', service.kit.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('grievance_body', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grievance_body_api_token_hash'), ['api_token_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_grievance_body_level'), ['level'], unique=False)
        batch_op.create_index(batch_op.f('ix_grievance_body_slug'), ['slug'], unique=True)

    op.create_table('routing_rule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rule_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('current', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('categories', sa.JSON(), nullable=False),
    sa.Column('urgencies', sa.JSON(), nullable=False),
    sa.Column('populations', sa.JSON(), nullable=False),
    sa.Column('place_code', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
    sa.Column('org_slug', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('ladder', sa.JSON(), nullable=False),
    sa.Column('auto_escalate', sa.Boolean(), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('created_at', service.kit.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('rule_key', 'version', name='uq_routing_rule_version')
    )
    with op.batch_alter_table('routing_rule', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_routing_rule_current'), ['current'], unique=False)
        batch_op.create_index(batch_op.f('ix_routing_rule_rule_key'), ['rule_key'], unique=False)

    op.create_table('worker_lock',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('holder', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('expires_at', service.kit.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('grievance_body_place',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('body_id', sa.Integer(), nullable=False),
    sa.Column('place_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['body_id'], ['grievance_body.id'], ),
    sa.ForeignKeyConstraint(['place_id'], ['place.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('body_id', 'place_id', name='uq_grievance_body_place')
    )
    with op.batch_alter_table('grievance_body_place', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grievance_body_place_body_id'), ['body_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_grievance_body_place_place_id'), ['place_id'], unique=False)

    op.create_table('escalation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('body_id', sa.Integer(), nullable=False),
    sa.Column('rule_id', sa.Integer(), nullable=True),
    sa.Column('rung', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('created_at', service.kit.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('due_at', service.kit.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('remind_at', service.kit.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reminded_at', service.kit.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_at', service.kit.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('responded_at', service.kit.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', service.kit.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('response_masked', sa.Text(), nullable=True),
    sa.Column('link_nonce', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.ForeignKeyConstraint(['body_id'], ['grievance_body.id'], ),
    sa.ForeignKeyConstraint(['report_id'], ['report.id'], ),
    sa.ForeignKeyConstraint(['rule_id'], ['routing_rule.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('idempotency_key')
    )
    with op.batch_alter_table('escalation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_escalation_body_id'), ['body_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_escalation_due_at'), ['due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_escalation_remind_at'), ['remind_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_escalation_report_id'), ['report_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_escalation_status'), ['status'], unique=False)

    op.create_table('pending_question',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reporter_id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('asked_at', service.kit.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', service.kit.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('answered_at', service.kit.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['report_id'], ['report.id'], ),
    sa.ForeignKeyConstraint(['reporter_id'], ['reporter.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('pending_question', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pending_question_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_pending_question_report_id'), ['report_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pending_question_reporter_id'), ['reporter_id'], unique=False)

    op.create_table('report_route',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('rule_id', sa.Integer(), nullable=True),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('routed_at', service.kit.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['report.id'], ),
    sa.ForeignKeyConstraint(['rule_id'], ['routing_rule.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('report_route', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_route_report_id'), ['report_id'], unique=True)

    with op.batch_alter_table('outbound_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dedupe_key', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True))
        batch_op.add_column(sa.Column('body_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('claimed_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column('claimed_until', service.kit.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_outbound_message_body_id'), ['body_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbound_message_claimed_until'), ['claimed_until'], unique=False)
        batch_op.create_unique_constraint('uq_outbound_message_dedupe_key', ['dedupe_key'])
        batch_op.create_foreign_key('fk_outbound_message_body_id', 'grievance_body', ['body_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('outbound_message', schema=None) as batch_op:
        batch_op.drop_constraint('fk_outbound_message_body_id', type_='foreignkey')
        batch_op.drop_constraint('uq_outbound_message_dedupe_key', type_='unique')
        batch_op.drop_index(batch_op.f('ix_outbound_message_claimed_until'))
        batch_op.drop_index(batch_op.f('ix_outbound_message_body_id'))
        batch_op.drop_column('claimed_until')
        batch_op.drop_column('claimed_by')
        batch_op.drop_column('body_id')
        batch_op.drop_column('dedupe_key')

    with op.batch_alter_table('report_route', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_route_report_id'))

    op.drop_table('report_route')
    with op.batch_alter_table('pending_question', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pending_question_reporter_id'))
        batch_op.drop_index(batch_op.f('ix_pending_question_report_id'))
        batch_op.drop_index(batch_op.f('ix_pending_question_expires_at'))

    op.drop_table('pending_question')
    with op.batch_alter_table('escalation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_escalation_status'))
        batch_op.drop_index(batch_op.f('ix_escalation_report_id'))
        batch_op.drop_index(batch_op.f('ix_escalation_remind_at'))
        batch_op.drop_index(batch_op.f('ix_escalation_due_at'))
        batch_op.drop_index(batch_op.f('ix_escalation_body_id'))

    op.drop_table('escalation')
    with op.batch_alter_table('grievance_body_place', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grievance_body_place_place_id'))
        batch_op.drop_index(batch_op.f('ix_grievance_body_place_body_id'))

    op.drop_table('grievance_body_place')
    op.drop_table('worker_lock')
    with op.batch_alter_table('routing_rule', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_routing_rule_rule_key'))
        batch_op.drop_index(batch_op.f('ix_routing_rule_current'))

    op.drop_table('routing_rule')
    with op.batch_alter_table('grievance_body', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grievance_body_slug'))
        batch_op.drop_index(batch_op.f('ix_grievance_body_level'))
        batch_op.drop_index(batch_op.f('ix_grievance_body_api_token_hash'))

    op.drop_table('grievance_body')
