"""Initial schema: every table of docs/data-model.md.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-26

Timestamps are ``timestamptz`` on PostgreSQL and naive UTC on SQLite (paco.models.types.UTCDateTime
gives them their zone back). Constraint names follow paco.extensions.NAMING_CONVENTION.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0001_initial'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=254), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('target', sa.String(length=255), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events')),
    sa.UniqueConstraint('hash', name=op.f('uq_audit_events_hash'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_at'), ['at'], unique=False)

    op.create_table('cohorts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('llm_provider', sa.String(length=40), nullable=True),
    sa.Column('llm_model', sa.String(length=100), nullable=True),
    sa.Column('prompt_version', sa.String(length=40), nullable=True),
    sa.Column('tts_enabled', sa.Boolean(), nullable=False),
    sa.Column('tts_voice', sa.String(length=100), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cohorts')),
    sa.UniqueConstraint('name', name=op.f('uq_cohorts_name'))
    )
    op.create_table('disclaimers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disclaimers')),
    sa.UniqueConstraint('version', name=op.f('uq_disclaimers_version'))
    )
    with op.batch_alter_table('disclaimers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disclaimers_published_at'), ['published_at'], unique=False)

    op.create_table('staff_users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("role IN ('admin', 'data_manager', 'investigator')", name=op.f('ck_staff_users_role')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_users')),
    sa.UniqueConstraint('email', name=op.f('uq_staff_users_email'))
    )
    op.create_table('research_ids',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('research_id', sa.String(length=50), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('enrolled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status_changed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('active', 'paused', 'withdrawn')", name=op.f('ck_research_ids_status')),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohorts.id'], name=op.f('fk_research_ids_cohort_id_cohorts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_research_ids')),
    sa.UniqueConstraint('research_id', name=op.f('uq_research_ids_research_id'))
    )
    with op.batch_alter_table('research_ids', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_research_ids_cohort_id'), ['cohort_id'], unique=False)

    op.create_table('adherence_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('research_id', sa.String(length=50), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('measure', sa.String(length=20), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.Column('import_batch', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("measure IN ('self_report', 'pill_count', 'refill_pdc', 'mems')", name=op.f('ck_adherence_records_measure')),
    sa.ForeignKeyConstraint(['research_id'], ['research_ids.research_id'], name=op.f('fk_adherence_records_research_id_research_ids')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_adherence_records')),
    sa.UniqueConstraint('research_id', 'date', 'measure', 'source', name='uq_adherence_records_point')
    )
    with op.batch_alter_table('adherence_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_adherence_records_import_batch'), ['import_batch'], unique=False)
        batch_op.create_index('ix_adherence_records_research_date', ['research_id', 'date'], unique=False)

    op.create_table('conversations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('research_id', sa.String(length=50), nullable=False),
    sa.Column('conversation_id', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['research_id'], ['research_ids.research_id'], name=op.f('fk_conversations_research_id_research_ids')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conversations')),
    sa.UniqueConstraint('conversation_id', name=op.f('uq_conversations_conversation_id'))
    )
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conversations_research_id'), ['research_id'], unique=False)

    op.create_table('disclaimer_acknowledgments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('research_id', sa.String(length=50), nullable=False),
    sa.Column('disclaimer_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_agent', sa.String(length=512), nullable=False),
    sa.ForeignKeyConstraint(['disclaimer_id'], ['disclaimers.id'], name=op.f('fk_disclaimer_acknowledgments_disclaimer_id_disclaimers')),
    sa.ForeignKeyConstraint(['research_id'], ['research_ids.research_id'], name=op.f('fk_disclaimer_acknowledgments_research_id_research_ids')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disclaimer_acknowledgments'))
    )
    with op.batch_alter_table('disclaimer_acknowledgments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disclaimer_acknowledgments_disclaimer_id'), ['disclaimer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_disclaimer_acknowledgments_research_id'), ['research_id'], unique=False)

    op.create_table('messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.String(length=100), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('audio_url', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('provider', sa.String(length=40), nullable=True),
    sa.Column('model', sa.String(length=100), nullable=True),
    sa.Column('prompt_version', sa.String(length=40), nullable=True),
    sa.Column('safety_category', sa.String(length=40), nullable=True),
    sa.Column('safety_rule', sa.String(length=100), nullable=True),
    sa.CheckConstraint("role IN ('user', 'assistant')", name=op.f('ck_messages_role')),
    sa.CheckConstraint("status IN ('complete', 'interrupted', 'failed')", name=op.f('ck_messages_status')),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.conversation_id'], name=op.f('fk_messages_conversation_id_conversations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_messages'))
    )
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_index('ix_messages_conversation_created', ['conversation_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_messages_safety_category'), ['safety_category'], unique=False)

    op.create_table('turn_metrics',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('first_token_ms', sa.Float(), nullable=True),
    sa.Column('first_sentence_ms', sa.Float(), nullable=True),
    sa.Column('first_audio_ms', sa.Float(), nullable=True),
    sa.Column('total_ms', sa.Float(), nullable=True),
    sa.Column('tts_ms', sa.Float(), nullable=True),
    sa.Column('response_chars', sa.Integer(), nullable=False),
    sa.Column('response_tokens', sa.Integer(), nullable=True),
    sa.Column('sentences', sa.Integer(), nullable=False),
    sa.Column('audio_cache_hits', sa.Integer(), nullable=False),
    sa.Column('provider_errors', sa.Integer(), nullable=False),
    sa.Column('tts_errors', sa.Integer(), nullable=False),
    sa.Column('error_detail', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_turn_metrics_message_id_messages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_turn_metrics')),
    sa.UniqueConstraint('message_id', name=op.f('uq_turn_metrics_message_id'))
    )


def downgrade():
    op.drop_table('turn_metrics')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_messages_safety_category'))
        batch_op.drop_index('ix_messages_conversation_created')

    op.drop_table('messages')
    with op.batch_alter_table('disclaimer_acknowledgments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_disclaimer_acknowledgments_research_id'))
        batch_op.drop_index(batch_op.f('ix_disclaimer_acknowledgments_disclaimer_id'))

    op.drop_table('disclaimer_acknowledgments')
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conversations_research_id'))

    op.drop_table('conversations')
    with op.batch_alter_table('adherence_records', schema=None) as batch_op:
        batch_op.drop_index('ix_adherence_records_research_date')
        batch_op.drop_index(batch_op.f('ix_adherence_records_import_batch'))

    op.drop_table('adherence_records')
    with op.batch_alter_table('research_ids', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_research_ids_cohort_id'))

    op.drop_table('research_ids')
    op.drop_table('staff_users')
    with op.batch_alter_table('disclaimers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_disclaimers_published_at'))

    op.drop_table('disclaimers')
    op.drop_table('cohorts')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_at'))
        batch_op.drop_index(batch_op.f('ix_audit_events_action'))

    op.drop_table('audit_events')
