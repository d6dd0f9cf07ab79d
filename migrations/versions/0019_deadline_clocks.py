"""Fair deadlines: a body's deadline may count in working time (its zone, hours, public holidays; an
organisation's calendar as the fallback), and an escalation's clock pauses while the case waits on the
reporter's answer.

Revision ID: 0019
Revises: 0018
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel

import service.kit.models

from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def _text(name: str, length: int) -> sa.Column:
    return sa.Column(name, sqlmodel.sql.sqltypes.AutoString(length=length), nullable=True)


def upgrade() -> None:
    with op.batch_alter_table('grievance_body') as batch:
        batch.add_column(sa.Column('deadline_counting', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False,
                                   server_default='calendar'))
        batch.add_column(_text('time_zone', 64))
        batch.add_column(_text('working_hours', 200))
        batch.add_column(_text('holiday_country', 8))
    with op.batch_alter_table('organisation') as batch:
        batch.add_column(_text('working_hours', 200))
        batch.add_column(_text('holiday_country', 8))
    with op.batch_alter_table('escalation') as batch:
        batch.add_column(sa.Column('counting', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False,
                                   server_default='calendar'))
        batch.add_column(sa.Column('paused_at', service.kit.models.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('paused_until', service.kit.models.UTCDateTime(timezone=True), nullable=True))
    op.create_index('ix_escalation_paused_until', 'escalation', ['paused_until'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_escalation_paused_until', table_name='escalation')
    with op.batch_alter_table('escalation') as batch:
        for column in ('paused_until', 'paused_at', 'counting'):
            batch.drop_column(column)
    with op.batch_alter_table('organisation') as batch:
        for column in ('holiday_country', 'working_hours'):
            batch.drop_column(column)
    with op.batch_alter_table('grievance_body') as batch:
        for column in ('holiday_country', 'working_hours', 'time_zone', 'deadline_counting'):
            batch.drop_column(column)
