"""tags on cases, saved queue filters, organisations' reply templates

Revision ID: 0015
Revises: 0011
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel

import service.kit.models
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('case_tag',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('tag', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', service.kit.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['app_user.id'], ),
    sa.ForeignKeyConstraint(['org_id'], ['organisation.id'], ),
    sa.ForeignKeyConstraint(['report_id'], ['report.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('report_id', 'tag', name='uq_case_tag')
    )
    op.create_index('ix_case_tag_org_tag', 'case_tag', ['org_id', 'tag'], unique=False)
    op.create_index(op.f('ix_case_tag_report_id'), 'case_tag', ['report_id'], unique=False)
    op.create_table('saved_filter',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('query', sqlmodel.sql.sqltypes.AutoString(length=600), nullable=False),
    sa.Column('shared', sa.Boolean(), nullable=False),
    sa.Column('created_at', service.kit.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisation.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_saved_filter_org_id'), 'saved_filter', ['org_id'], unique=False)
    op.create_index(op.f('ix_saved_filter_user_id'), 'saved_filter', ['user_id'], unique=False)
    op.create_table('reply_template',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('text_km', sqlmodel.sql.sqltypes.AutoString(length=640), nullable=False),
    sa.Column('text_en', sqlmodel.sql.sqltypes.AutoString(length=640), nullable=False),
    sa.Column('text_pt', sqlmodel.sql.sqltypes.AutoString(length=640), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('updated_at', service.kit.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisation.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('org_id', 'name', name='uq_reply_template_name')
    )
    op.create_index(op.f('ix_reply_template_org_id'), 'reply_template', ['org_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_reply_template_org_id'), table_name='reply_template')
    op.drop_table('reply_template')
    op.drop_index(op.f('ix_saved_filter_user_id'), table_name='saved_filter')
    op.drop_index(op.f('ix_saved_filter_org_id'), table_name='saved_filter')
    op.drop_table('saved_filter')
    op.drop_index(op.f('ix_case_tag_report_id'), table_name='case_tag')
    op.drop_index('ix_case_tag_org_tag', table_name='case_tag')
    op.drop_table('case_tag')
