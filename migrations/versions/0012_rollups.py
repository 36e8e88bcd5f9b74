"""Rollups for the investigator dashboards, and two indexes they read by (latest conversations,
flagged questions by date): questions per conversation and day, and per cohort and
day; turns and latency bins per day, provider and model; the watermark each holds up to
(paco.models.rollups).

Derived data: created empty here; ``flask analytics refresh`` (or the first dashboard view, a
chunk at a time) fills them, and the dashboards are exact meanwhile (newer rows are read live).

Revision ID: 0012_rollups
Revises: 0011_turn_leases
Create Date: 2026-12-04
"""
from alembic import op
import sqlalchemy as sa


revision = '0012_rollups'
down_revision = '0011_turn_leases'
branch_labels = None
depends_on = None

# Frozen here (not imported): a migration must keep meaning what it meant when written.
TOPICS = ("side_effects", "medications", "smoking", "diet", "walking_exercise", "symptoms", "other")
QUESTION_COUNTS = ("questions", "voice", "typed", "escalations", *(f"topic_{t}" for t in TOPICS),
                   *(f"h{h:02d}" for h in range(24)))
COHORT_COUNTS = ("conversations", *QUESTION_COUNTS)
TURN_COUNTS = ("turns", "failed", "fallback", "tts_errors", "tts_hits", "tts_sentences")


def _counts(names):
    return [sa.Column(name, sa.Integer(), server_default='0', nullable=False) for name in names]


def upgrade():
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conversations_created_at'), ['created_at'], unique=False)
    flagged = sa.text('safety_category IS NOT NULL')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_index('ix_messages_flagged_created', ['created_at'], unique=False,
                              sqlite_where=flagged, postgresql_where=flagged)
    op.create_table(
        'question_days',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('conversation_key', sa.Integer(), nullable=False),
        sa.Column('research_key', sa.Integer(), nullable=False),
        *_counts(QUESTION_COUNTS),
        sa.ForeignKeyConstraint(['conversation_key'], ['conversations.id'],
                                name=op.f('fk_question_days_conversation_key_conversations')),
        sa.ForeignKeyConstraint(['research_key'], ['research_ids.id'],
                                name=op.f('fk_question_days_research_key_research_ids')),
        sa.PrimaryKeyConstraint('day', 'conversation_key', name=op.f('pk_question_days')),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table('question_days', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_question_days_conversation_key'), ['conversation_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_question_days_research_key'), ['research_key'], unique=False)
    op.create_table(
        'cohort_days',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('cohort_key', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        *_counts(COHORT_COUNTS),
        sa.PrimaryKeyConstraint('day', 'cohort_key', 'status', name=op.f('pk_cohort_days')),
        sqlite_with_rowid=False,
    )
    op.create_table(
        'rollup_participants',
        sa.Column('research_key', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('cohort_key', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint('research_key', name=op.f('pk_rollup_participants')),
    )
    op.create_table(
        'turn_days',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('provider', sa.String(length=40), nullable=False),
        sa.Column('model', sa.String(length=100), nullable=False),
        *_counts(TURN_COUNTS),
        sa.PrimaryKeyConstraint('day', 'provider', 'model', name=op.f('pk_turn_days')),
        sqlite_with_rowid=False,
    )
    op.create_table(
        'latency_bins',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('provider', sa.String(length=40), nullable=False),
        sa.Column('model', sa.String(length=100), nullable=False),
        sa.Column('measure', sa.String(length=20), nullable=False),
        sa.Column('bin', sa.Float(), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('day', 'provider', 'model', 'measure', 'bin', name=op.f('pk_latency_bins')),
        sqlite_with_rowid=False,
    )
    op.create_table(
        'rollup_state',
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('watermark', sa.Integer(), nullable=False),
        sa.Column('refreshed_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_rollup_state')),
    )


def downgrade():
    op.drop_table('rollup_state')
    op.drop_table('latency_bins')
    op.drop_table('turn_days')
    op.drop_table('rollup_participants')
    op.drop_table('cohort_days')
    with op.batch_alter_table('question_days', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_question_days_research_key'))
        batch_op.drop_index(batch_op.f('ix_question_days_conversation_key'))
    op.drop_table('question_days')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index('ix_messages_flagged_created')
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conversations_created_at'))
