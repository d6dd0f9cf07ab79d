"""case fields

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 11:53:21.292845
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel

import service.kit.models
from alembic import op


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('report_cluster',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('place_id', sa.Integer(), nullable=True),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('systemic', sa.Boolean(), nullable=False),
    sa.Column('label', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('created_at', service.kit.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', service.kit.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['place_id'], ['place.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('report_cluster', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_cluster_category'), ['category'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_cluster_place_id'), ['place_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_cluster_systemic'), ['systemic'], unique=False)

    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.add_column(sa.Column('population', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch_op.add_column(sa.Column('secondary_category', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))
        batch_op.add_column(sa.Column('triage_confidence', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('triage_language', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True))
        batch_op.add_column(sa.Column('triage_reasons', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('cluster_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('org_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('assigned_user_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('due_at', service.kit.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('first_response_at', service.kit.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('resolved_at', service.kit.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('closed_at', service.kit.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('satisfaction', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True))
        batch_op.create_index(batch_op.f('ix_report_assigned_user_id'), ['assigned_user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_cluster_id'), ['cluster_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_due_at'), ['due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_population'), ['population'], unique=False)
        batch_op.create_foreign_key('fk_report_cluster_id', 'report_cluster', ['cluster_id'], ['id'])
        batch_op.create_foreign_key('fk_report_org_id', 'organisation', ['org_id'], ['id'])
        batch_op.create_foreign_key('fk_report_assigned_user_id', 'app_user', ['assigned_user_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('report', schema=None) as batch_op:
        for name in ('fk_report_assigned_user_id', 'fk_report_org_id', 'fk_report_cluster_id'):
            batch_op.drop_constraint(name, type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_report_population'))
        batch_op.drop_index(batch_op.f('ix_report_org_id'))
        batch_op.drop_index(batch_op.f('ix_report_due_at'))
        batch_op.drop_index(batch_op.f('ix_report_cluster_id'))
        batch_op.drop_index(batch_op.f('ix_report_assigned_user_id'))
        batch_op.drop_column('satisfaction')
        batch_op.drop_column('closed_at')
        batch_op.drop_column('resolved_at')
        batch_op.drop_column('first_response_at')
        batch_op.drop_column('due_at')
        batch_op.drop_column('assigned_user_id')
        batch_op.drop_column('org_id')
        batch_op.drop_column('cluster_id')
        batch_op.drop_column('triage_reasons')
        batch_op.drop_column('triage_language')
        batch_op.drop_column('triage_confidence')
        batch_op.drop_column('secondary_category')
        batch_op.drop_column('population')

    with op.batch_alter_table('report_cluster', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_cluster_systemic'))
        batch_op.drop_index(batch_op.f('ix_report_cluster_place_id'))
        batch_op.drop_index(batch_op.f('ix_report_cluster_category'))

    op.drop_table('report_cluster')
