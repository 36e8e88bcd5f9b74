"""Revoked participant tokens; one acknowledgment per version and participant.

Revision ID: 0003_hardening
Revises: 0002_append_only
Create Date: 2026-12-04

``revoked_tokens`` holds the ``jti`` of tokens signed out before they expire (used when no Redis
is configured). Twelve simultaneous acknowledgments of one version could store two rows: the
pair (research_id, disclaimer_id) becomes unique. Duplicates already stored are removed first,
keeping the earliest; on PostgreSQL the append-only trigger is paused for that one statement.
"""
from alembic import op
import sqlalchemy as sa


revision = '0003_hardening'
down_revision = '0002_append_only'
branch_labels = None
depends_on = None

DEDUPLICATE = """
DELETE FROM disclaimer_acknowledgments WHERE id NOT IN (
    SELECT MIN(id) FROM disclaimer_acknowledgments GROUP BY research_id, disclaimer_id)
"""


def upgrade():
    op.create_table(
        'revoked_tokens',
        sa.Column('jti', sa.String(length=64), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('jti', name=op.f('pk_revoked_tokens')),
    )
    with op.batch_alter_table('revoked_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_revoked_tokens_expires_at'), ['expires_at'], unique=False)

    postgres = op.get_bind().dialect.name == 'postgresql'
    if postgres:
        op.execute('ALTER TABLE disclaimer_acknowledgments DISABLE TRIGGER disclaimer_acknowledgments_append_only')
    op.execute(DEDUPLICATE)
    if postgres:
        op.execute('ALTER TABLE disclaimer_acknowledgments ENABLE TRIGGER disclaimer_acknowledgments_append_only')
    with op.batch_alter_table('disclaimer_acknowledgments', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_disclaimer_acknowledgments_once', ['research_id', 'disclaimer_id'])


def downgrade():
    with op.batch_alter_table('disclaimer_acknowledgments', schema=None) as batch_op:
        batch_op.drop_constraint('uq_disclaimer_acknowledgments_once', type_='unique')
    with op.batch_alter_table('revoked_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_revoked_tokens_expires_at'))
    op.drop_table('revoked_tokens')
