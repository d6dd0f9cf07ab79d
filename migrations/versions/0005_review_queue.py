"""review queue: sign-in sessions, user security, queue indexes, narrative search

Revision ID: 0005
Revises: 0007
Create Date: 2026-11-23 12:20:00

The SQLite search table is kept by triggers on `report`. A later migration that
rebuilds `report` with batch mode (copy-and-move) drops those triggers: run
`create_search()` again there (tests/queue/test_search_index.py checks they exist at head).
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel

import service.kit.models
from alembic import op


revision = '0005'
down_revision = '0007'
branch_labels = None
depends_on = None

QUEUE_INDEXES = {
    'ix_report_queue_org': ['org_id', 'urgency', 'due_at', 'created_at', 'id'],
    'ix_report_queue_all': ['urgency', 'due_at', 'created_at', 'id'],
    'ix_report_org_status': ['org_id', 'status', 'urgency', 'due_at', 'created_at'],
    'ix_report_org_assigned': ['org_id', 'assigned_user_id', 'urgency', 'due_at'],
    'ix_report_org_category': ['org_id', 'category', 'urgency', 'due_at'],
    'ix_report_org_channel': ['org_id', 'channel', 'urgency', 'due_at'],
    'ix_report_org_population': ['org_id', 'population', 'urgency', 'due_at'],
    'ix_report_org_place': ['org_id', 'place_id', 'urgency', 'due_at'],
    'ix_report_org_due': ['org_id', 'due_at'],
}

SQLITE_SEARCH = [
    # Trigram tokens: substring search that also works for Khmer, written without spaces.
    "CREATE VIRTUAL TABLE IF NOT EXISTS report_fts USING fts5(narrative_masked, content='report', "
    "content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER IF NOT EXISTS report_fts_ai AFTER INSERT ON report BEGIN "
    "INSERT INTO report_fts(rowid, narrative_masked) VALUES (new.id, new.narrative_masked); END",
    "CREATE TRIGGER IF NOT EXISTS report_fts_ad AFTER DELETE ON report BEGIN "
    "INSERT INTO report_fts(report_fts, rowid, narrative_masked) VALUES ('delete', old.id, old.narrative_masked); END",
    "CREATE TRIGGER IF NOT EXISTS report_fts_au AFTER UPDATE OF narrative_masked ON report BEGIN "
    "INSERT INTO report_fts(report_fts, rowid, narrative_masked) VALUES ('delete', old.id, old.narrative_masked); "
    "INSERT INTO report_fts(rowid, narrative_masked) VALUES (new.id, new.narrative_masked); END",
    "INSERT INTO report_fts(report_fts) VALUES ('rebuild')",
]
POSTGRES_SEARCH = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS ix_report_narrative_trgm ON report USING gin (narrative_masked gin_trgm_ops)",
]


def create_search() -> None:
    """The narrative search index for this database (idempotent)."""
    statements = SQLITE_SEARCH if op.get_bind().dialect.name == 'sqlite' else POSTGRES_SEARCH
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    op.create_table('auth_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('created_at', service.kit.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', service.kit.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', service.kit.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', service.kit.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name='fk_auth_session_user_id'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('auth_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_auth_session_token_hash'), ['token_hash'], unique=True)
        batch_op.create_index(batch_op.f('ix_auth_session_user_id'), ['user_id'], unique=False)

    op.create_table('user_security',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', service.kit.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('totp_secret_sealed', sa.LargeBinary(), nullable=True),
    sa.Column('totp_enabled', sa.Boolean(), nullable=False),
    sa.Column('password_reset_at', service.kit.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name='fk_user_security_user_id'),
    sa.PrimaryKeyConstraint('user_id')
    )

    for name, columns in QUEUE_INDEXES.items():
        op.create_index(name, 'report', columns, unique=False)
    # Partial: nearly every report has no cluster (see service/queue/models.py).
    op.create_index('ix_report_org_cluster', 'report', ['org_id', 'cluster_id', 'urgency', 'due_at'], unique=False,
                    sqlite_where=sa.text('cluster_id IS NOT NULL'), postgresql_where=sa.text('cluster_id IS NOT NULL'))
    create_search()


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        for trigger in ('report_fts_ai', 'report_fts_ad', 'report_fts_au'):
            op.execute(f'DROP TRIGGER IF EXISTS {trigger}')
        op.execute('DROP TABLE IF EXISTS report_fts')
    else:
        op.execute('DROP INDEX IF EXISTS ix_report_narrative_trgm')
    op.drop_index('ix_report_org_cluster', table_name='report')
    for name in reversed(list(QUEUE_INDEXES)):
        op.drop_index(name, table_name='report')
    op.drop_table('user_security')
    with op.batch_alter_table('auth_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_auth_session_user_id'))
        batch_op.drop_index(batch_op.f('ix_auth_session_token_hash'))
    op.drop_table('auth_session')
