"""grievance_body.owner_org_id: the organisation that manages a body (NULL: shared, platform administrators);
app_user.language and organisation.language: the language a handler's alert emails are written in

Revision ID: 0018
Revises: 0017
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('grievance_body') as batch:
        batch.add_column(sa.Column('owner_org_id', sa.Integer(), nullable=True))
        batch.create_foreign_key('fk_grievance_body_owner_org_id', 'organisation', ['owner_org_id'], ['id'])
    op.create_index('ix_grievance_body_owner_org_id', 'grievance_body', ['owner_org_id'], unique=False)
    for table in ('app_user', 'organisation'):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True))


def downgrade() -> None:
    for table in ('app_user', 'organisation'):
        with op.batch_alter_table(table) as batch:
            batch.drop_column('language')
    op.drop_index('ix_grievance_body_owner_org_id', table_name='grievance_body')
    with op.batch_alter_table('grievance_body') as batch:
        batch.drop_constraint('fk_grievance_body_owner_org_id', type_='foreignkey')
        batch.drop_column('owner_org_id')
