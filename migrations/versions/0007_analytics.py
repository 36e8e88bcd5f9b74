"""Analytics: a question's topic tag and input (voice or typed), and the indexes the dashboards read by.

Revision ID: 0007_analytics
Revises: 0006_daily_quotas
Create Date: 2026-12-05

Questions stored before this revision get their topic from ``flask analytics backfill-topics``.
"""
from alembic import op
import sqlalchemy as sa

revision = '0007_analytics'
down_revision = '0006_daily_quotas'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('topic', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('input', sa.String(length=10), nullable=True))
        batch_op.create_check_constraint('input', "input IN ('voice', 'text')")
        batch_op.create_index('ix_messages_created_role', ['created_at', 'role'], unique=False)
    with op.batch_alter_table('turn_metrics', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_turn_metrics_created_at'), ['created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('turn_metrics', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_turn_metrics_created_at'))
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index('ix_messages_created_role')
        batch_op.drop_constraint('input', type_='check')
        batch_op.drop_column('input')
        batch_op.drop_column('topic')
