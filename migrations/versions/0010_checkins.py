"""Daily check-ins: the history of every answer, the barrier on self-reported adherence records,
the cohorts' check-in settings and contact text, and "checkin" as a message's input.

Cohorts that exist already get the check-in turned off (``checkin_enabled`` false): a running
study arm changes only when the study team turns it on. New cohorts have it on.

Revision ID: 0010_checkins
Revises: 0009_imports
Create Date: 2026-12-05
"""
from alembic import op
import sqlalchemy as sa


revision = '0010_checkins'
down_revision = '0009_imports'
branch_labels = None
depends_on = None

BARRIERS = "('forgot', 'side_effects', 'cost', 'ran_out', 'on_purpose', 'other')"


def upgrade():
    op.create_table(
        'checkins',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('research_id', sa.String(length=50), nullable=False),
        sa.Column('date', sa.Date(), nullable=False),
        sa.Column('taken', sa.String(length=10), nullable=False),
        sa.Column('reason', sa.String(length=20), nullable=True),
        sa.Column('note', sa.Text(), server_default='', nullable=False),
        sa.Column('value', sa.Float(), nullable=False),
        sa.Column('tz_offset_minutes', sa.Integer(), nullable=False),
        sa.Column('wording', sa.String(length=20), nullable=False),
        sa.Column('answered_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('reply_message_id', sa.Integer(), nullable=True),
        sa.CheckConstraint("taken IN ('all', 'some', 'none')", name=op.f('ck_checkins_taken')),
        sa.CheckConstraint(f"reason IN {BARRIERS}", name=op.f('ck_checkins_reason')),
        sa.CheckConstraint('value >= 0 AND value <= 1', name=op.f('ck_checkins_value_fraction')),
        sa.CheckConstraint('tz_offset_minutes BETWEEN -840 AND 840', name=op.f('ck_checkins_tz_offset')),
        sa.ForeignKeyConstraint(['reply_message_id'], ['messages.id'],
                                name=op.f('fk_checkins_reply_message_id_messages')),
        sa.ForeignKeyConstraint(['research_id'], ['research_ids.research_id'],
                                name=op.f('fk_checkins_research_id_research_ids')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_checkins')),
    )
    with op.batch_alter_table('checkins', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_checkins_answered_at'), ['answered_at'], unique=False)
        batch_op.create_index('ix_checkins_research_date', ['research_id', 'date'], unique=False)
    with op.batch_alter_table('adherence_records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('barrier', sa.String(length=20), nullable=True))
        batch_op.create_check_constraint(op.f('ck_adherence_records_barrier'), f"barrier IN {BARRIERS}")
    with op.batch_alter_table('cohorts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('checkin_enabled', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('checkin_weekdays', sa.String(length=7), server_default='1234567',
                                      nullable=False))
        batch_op.add_column(sa.Column('checkin_wording', sa.String(length=20), server_default='v1', nullable=False))
        batch_op.add_column(sa.Column('contact_text', sa.Text(), server_default='', nullable=False))
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_messages_input'), type_='check')
        batch_op.create_check_constraint(op.f('ck_messages_input'), "input IN ('voice', 'text', 'checkin')")


def downgrade():
    op.execute("UPDATE messages SET input = NULL WHERE input = 'checkin'")
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_messages_input'), type_='check')
        batch_op.create_check_constraint(op.f('ck_messages_input'), "input IN ('voice', 'text')")
    with op.batch_alter_table('cohorts', schema=None) as batch_op:
        batch_op.drop_column('contact_text')
        batch_op.drop_column('checkin_wording')
        batch_op.drop_column('checkin_weekdays')
        batch_op.drop_column('checkin_enabled')
    with op.batch_alter_table('adherence_records', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_adherence_records_barrier'), type_='check')
        batch_op.drop_column('barrier')
    with op.batch_alter_table('checkins', schema=None) as batch_op:
        batch_op.drop_index('ix_checkins_research_date')
        batch_op.drop_index(batch_op.f('ix_checkins_answered_at'))
    op.drop_table('checkins')
