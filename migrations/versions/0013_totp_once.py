"""second factor: a pending key beside the enabled one, and the last accepted code's time step

Revision ID: 0013
Revises: 0011
"""
from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('user_security', schema=None) as batch_op:
        batch_op.add_column(sa.Column('totp_pending_sealed', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('totp_last_step', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('user_security', schema=None) as batch_op:
        batch_op.drop_column('totp_last_step')
        batch_op.drop_column('totp_pending_sealed')
