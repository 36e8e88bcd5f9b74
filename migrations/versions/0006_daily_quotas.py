"""Daily caps of LLM tokens and speech characters per research ID, set per cohort (0 = unlimited).

Revision ID: 0006_daily_quotas
Revises: 0005_safety_layer
Create Date: 2026-12-04
"""
from alembic import op
import sqlalchemy as sa

revision = '0006_daily_quotas'
down_revision = '0005_safety_layer'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cohorts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('daily_llm_tokens', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('daily_tts_chars', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('cohorts', schema=None) as batch_op:
        batch_op.drop_column('daily_tts_chars')
        batch_op.drop_column('daily_llm_tokens')
