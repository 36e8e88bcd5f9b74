"""Which safety layer decided: the rules, or the LLM classifier beside the answer.

Revision ID: 0005_safety_layer
Revises: 0004_no_truncate
Create Date: 2026-12-04

Flags written before this revision came from the rules (the only layer then): they are marked so.
"""
from alembic import op
import sqlalchemy as sa

revision = '0005_safety_layer'
down_revision = '0004_no_truncate'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('safety_layer', sa.String(length=20), nullable=True))
        batch_op.create_index(batch_op.f('ix_messages_safety_layer'), ['safety_layer'], unique=False)
    op.execute("UPDATE messages SET safety_layer = 'rules' WHERE safety_category IS NOT NULL")


def downgrade():
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_messages_safety_layer'))
        batch_op.drop_column('safety_layer')
