"""Imports by data managers: batches, notes, medication, one adherence scale (0-1) in the database.

Research IDs get notes and the batch that created them; adherence records get a medication and
notes (the medication is part of a record's identity) and a CHECK that the value is a fraction.

Revision ID: 0009_imports
Revises: 0008_reply_grade
Create Date: 2026-12-04
"""
from alembic import op
import sqlalchemy as sa


revision = '0009_imports'
down_revision = '0008_reply_grade'
branch_labels = None
depends_on = None


def upgrade():
    # A value above 1 was accepted before this revision (85 and 0.85 alike); the constraint below
    # would fail on it with a database error, so say what to fix instead.
    bad = op.get_bind().execute(sa.text(
        "SELECT count(*) FROM adherence_records WHERE value < 0 OR value > 1")).scalar()
    if bad:
        raise RuntimeError(
            f"{bad} adherence_records rows have a value outside 0-1 (percent stored as a number above 1?). "
            "Divide those values by 100 (or remove them) and run the upgrade again.")
    op.create_table(
        'import_batches',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('file_name', sa.String(length=255), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('actor', sa.String(length=254), nullable=False),
        sa.Column('target', sa.String(length=255), nullable=False),
        sa.Column('created', sa.Integer(), nullable=False),
        sa.Column('updated', sa.Integer(), nullable=False),
        sa.Column('unchanged', sa.Integer(), nullable=False),
        sa.Column('skipped', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('undone_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('undone_by', sa.String(length=254), nullable=True),
        sa.CheckConstraint("kind IN ('research_ids', 'adherence')", name=op.f('ck_import_batches_kind')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_import_batches')),
    )
    with op.batch_alter_table('import_batches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_import_batches_created_at'), ['created_at'], unique=False)
    with op.batch_alter_table('research_ids', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notes', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('import_batch', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_research_ids_import_batch'), ['import_batch'], unique=False)
    with op.batch_alter_table('adherence_records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('medication', sa.String(length=100), server_default='', nullable=False))
        batch_op.add_column(sa.Column('notes', sa.Text(), server_default='', nullable=False))
        batch_op.drop_constraint('uq_adherence_records_point', type_='unique')
        batch_op.create_unique_constraint(op.f('uq_adherence_records_point'),
                                          ['research_id', 'date', 'measure', 'source', 'medication'])
        batch_op.create_check_constraint(op.f('ck_adherence_records_value_fraction'), 'value >= 0 AND value <= 1')


def downgrade():
    with op.batch_alter_table('adherence_records', schema=None) as batch_op:
        batch_op.drop_constraint('ck_adherence_records_value_fraction', type_='check')
        batch_op.drop_constraint('uq_adherence_records_point', type_='unique')
        batch_op.create_unique_constraint('uq_adherence_records_point', ['research_id', 'date', 'measure', 'source'])
        batch_op.drop_column('notes')
        batch_op.drop_column('medication')
    with op.batch_alter_table('research_ids', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_research_ids_import_batch'))
        batch_op.drop_column('import_batch')
        batch_op.drop_column('notes')
    with op.batch_alter_table('import_batches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_import_batches_created_at'))
    op.drop_table('import_batches')
