"""The reading grade of each LLM answer, stored with its turn's metrics.

Revision ID: 0008_reply_grade
Revises: 0007_analytics
Create Date: 2026-12-04
"""
from alembic import op
import sqlalchemy as sa

revision = '0008_reply_grade'
down_revision = '0007_analytics'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('turn_metrics', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reply_grade', sa.Float(), nullable=True))


def downgrade():
    with op.batch_alter_table('turn_metrics', schema=None) as batch_op:
        batch_op.drop_column('reply_grade')
