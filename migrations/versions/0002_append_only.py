"""Append-only audit log and acknowledgments; the audit chain cannot fork.

Revision ID: 0002_append_only
Revises: 0001_initial
Create Date: 2026-11-27

On PostgreSQL a trigger refuses UPDATE and DELETE on ``audit_events`` and
``disclaimer_acknowledgments``, whoever connects. The triggers are row-level, so TRUNCATE (used
by the test suite and by operators resetting a scratch database) still works. SQLite has no
such guard; the ORM refuses there (paco.models.audit).

``audit_events.prev_hash`` becomes unique: two events extending the same event would fork the
hash chain, and the database now refuses the second one.

``staff_users.session_epoch`` is part of each staff session's identity; signing out raises it,
which ends every copy of that account's session cookie.
"""
from alembic import op
import sqlalchemy as sa


revision = '0002_append_only'
down_revision = '0001_initial'
branch_labels = None
depends_on = None

APPEND_ONLY_TABLES = ('audit_events', 'disclaimer_acknowledgments')

REFUSE_FUNCTION = """
CREATE OR REPLACE FUNCTION paco_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% on % refused: the table is append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'Rows of this table are only ever inserted.';
END;
$$
"""


def upgrade():
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f('uq_audit_events_prev_hash'), ['prev_hash'])
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_epoch', sa.Integer(), server_default='0', nullable=False))

    if op.get_bind().dialect.name == 'postgresql':
        op.execute(REFUSE_FUNCTION)
        for table in APPEND_ONLY_TABLES:
            op.execute(f'CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} '
                       f'FOR EACH ROW EXECUTE FUNCTION paco_refuse_change()')


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        for table in APPEND_ONLY_TABLES:
            op.execute(f'DROP TRIGGER IF EXISTS {table}_append_only ON {table}')
        op.execute('DROP FUNCTION IF EXISTS paco_refuse_change()')

    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.drop_column('session_epoch')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_audit_events_prev_hash'), type_='unique')
