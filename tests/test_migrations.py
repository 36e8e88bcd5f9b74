"""Migrations: one head, and ``upgrade`` on an empty database gives exactly the models' schema."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from paco.extensions import db


def test_single_head(app):
    config = app.extensions["migrate"].migrate.get_config()
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1


def test_upgraded_database_matches_the_models(app):
    # The ``database_url`` fixture built this database with ``flask db upgrade``'s code path.
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "render_as_batch": True})
        diff = compare_metadata(context, db.metadata)
        assert context.get_current_revision() == "0001_initial" or context.get_current_heads()
    assert diff == [], f"models and migrations differ: {diff}"


def test_every_design_table_exists(app):
    names = set(db.inspect(db.engine).get_table_names())
    assert {"cohorts", "research_ids", "disclaimers", "disclaimer_acknowledgments", "conversations",
            "messages", "turn_metrics", "adherence_records", "staff_users", "audit_events"} <= names
