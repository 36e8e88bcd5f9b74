"""Turn leases: chat turns in progress, so that any instance can close one whose worker died.

A row is written with the question and deleted with the answer; the worker running the turn renews
``expires_at`` and copies the answer's text so far into ``partial`` (paco.services.turn_leases).

Revision ID: 0011_turn_leases
Revises: 0010_checkins
Create Date: 2026-12-05
"""
from alembic import op
import sqlalchemy as sa


revision = '0011_turn_leases'
down_revision = '0010_checkins'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'turn_leases',
        sa.Column('question_id', sa.Integer(), nullable=False),
        sa.Column('conversation_id', sa.String(length=100), nullable=False),
        sa.Column('holder', sa.String(length=100), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('partial', sa.Text(), nullable=False),
        sa.Column('provider', sa.String(length=40), nullable=True),
        sa.Column('model', sa.String(length=100), nullable=True),
        sa.Column('prompt_version', sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(['conversation_id'], ['conversations.conversation_id'],
                                name=op.f('fk_turn_leases_conversation_id_conversations')),
        sa.ForeignKeyConstraint(['question_id'], ['messages.id'], name=op.f('fk_turn_leases_question_id_messages')),
        sa.PrimaryKeyConstraint('question_id', name=op.f('pk_turn_leases')),
    )
    with op.batch_alter_table('turn_leases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_turn_leases_conversation_id'), ['conversation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_turn_leases_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_turn_leases_holder'), ['holder'], unique=False)


def downgrade():
    with op.batch_alter_table('turn_leases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_turn_leases_holder'))
        batch_op.drop_index(batch_op.f('ix_turn_leases_expires_at'))
        batch_op.drop_index(batch_op.f('ix_turn_leases_conversation_id'))
    op.drop_table('turn_leases')
