"""organisation.body_alert_below: the on-time share under which supervisors hear about a grievance body;
body_alert: per organisation and body, whether it is below now (one alert per crossing)

Revision ID: 0020
Revises: 0019
"""
from __future__ import annotations

import sqlalchemy as sa

from alembic import op
import service.kit.models

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('organisation') as batch:
        batch.add_column(sa.Column('body_alert_below', sa.Integer(), nullable=True))
    op.create_table(
        'body_alert',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('org_id', sa.Integer(), nullable=False),
        sa.Column('body_id', sa.Integer(), nullable=False),
        sa.Column('below', sa.Boolean(), nullable=False),
        sa.Column('crossings', sa.Integer(), nullable=False),
        sa.Column('share', sa.Integer(), nullable=True),
        sa.Column('total', sa.Integer(), nullable=False),
        sa.Column('changed_at', service.kit.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['body_id'], ['grievance_body.id']),
        sa.ForeignKeyConstraint(['org_id'], ['organisation.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('org_id', 'body_id', name='uq_body_alert_org_body'),
    )
    op.create_index('ix_body_alert_org_id', 'body_alert', ['org_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_body_alert_org_id', table_name='body_alert')
    op.drop_table('body_alert')
    with op.batch_alter_table('organisation') as batch:
        batch.drop_column('body_alert_below')
