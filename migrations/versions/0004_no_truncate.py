"""The append-only tables refuse TRUNCATE too.

Revision ID: 0004_no_truncate
Revises: 0003_hardening
Create Date: 2026-12-04

0002's row-level triggers let TRUNCATE through, so one statement could empty the audit log.
A statement-level trigger now refuses it on ``audit_events`` and ``disclaimer_acknowledgments``
(PostgreSQL; SQLite has no TRUNCATE). A scratch database is emptied with
``SET LOCAL session_replication_role = replica`` by its owner, as the test suite does.
"""
from alembic import op

revision = '0004_no_truncate'
down_revision = '0003_hardening'
branch_labels = None
depends_on = None

APPEND_ONLY_TABLES = ('audit_events', 'disclaimer_acknowledgments')


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    for table in APPEND_ONLY_TABLES:
        op.execute(f'CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} '
                   'FOR EACH STATEMENT EXECUTE FUNCTION paco_refuse_change()')


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    for table in APPEND_ONLY_TABLES:
        op.execute(f'DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}')
