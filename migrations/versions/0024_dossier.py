"""dossier, dossier_case: a pattern of cases (a cluster, a saved filter's cases) gathered to be escalated as one;
escalation.dossier_id (report_id nullable, exactly one set) and the contents as sent

Revision ID: 0024
Revises: 0023
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel

import service.kit.models
from alembic import op

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('dossier',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('source_ref', sqlmodel.sql.sqltypes.AutoString(length=600), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('created_at', service.kit.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisation.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_dossier_org_id'), 'dossier', ['org_id'], unique=False)
    op.create_index(op.f('ix_dossier_status'), 'dossier', ['status'], unique=False)
    op.create_table('dossier_case',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dossier_id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('added_at', service.kit.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['dossier_id'], ['dossier.id'], ),
    sa.ForeignKeyConstraint(['report_id'], ['report.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('dossier_id', 'report_id', name='uq_dossier_case')
    )
    op.create_index(op.f('ix_dossier_case_dossier_id'), 'dossier_case', ['dossier_id'], unique=False)
    op.create_index(op.f('ix_dossier_case_report_id'), 'dossier_case', ['report_id'], unique=False)
    # A dossier is escalated on the escalation row itself: exactly one of report_id, dossier_id is set.
    with op.batch_alter_table('escalation') as batch:
        batch.alter_column('report_id', existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column('dossier_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('dossier_contents', sa.JSON(none_as_null=True), nullable=True))
        batch.create_foreign_key('fk_escalation_dossier_id', 'dossier', ['dossier_id'], ['id'])
        batch.create_check_constraint(
            'ck_escalation_case_or_dossier', '(report_id IS NULL) <> (dossier_id IS NULL)'
        )
    op.create_index('ix_escalation_dossier_id', 'escalation', ['dossier_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_escalation_dossier_id', table_name='escalation')
    op.execute('DELETE FROM escalation WHERE dossier_id IS NOT NULL')
    with op.batch_alter_table('escalation') as batch:
        batch.drop_constraint('ck_escalation_case_or_dossier', type_='check')
        batch.drop_constraint('fk_escalation_dossier_id', type_='foreignkey')
        batch.drop_column('dossier_contents')
        batch.drop_column('dossier_id')
        batch.alter_column('report_id', existing_type=sa.Integer(), nullable=False)
    for name in ('report_id', 'dossier_id'):
        op.drop_index(op.f(f'ix_dossier_case_{name}'), table_name='dossier_case')
    op.drop_table('dossier_case')
    for name in ('status', 'org_id'):
        op.drop_index(op.f(f'ix_dossier_{name}'), table_name='dossier')
    op.drop_table('dossier')
