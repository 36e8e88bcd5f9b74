"""Migrations: one head, and ``upgrade`` on an empty database gives exactly the models' schema."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from paco.extensions import db


def _head(app) -> str:
    config = app.extensions["migrate"].migrate.get_config()
    heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, f"the migrations have {len(heads)} heads: {heads}"
    return heads[0]


def test_single_head_descending_from_the_first_revision(app):
    config = app.extensions["migrate"].migrate.get_config()
    script = ScriptDirectory.from_config(config)
    chain = [rev.revision for rev in script.walk_revisions()]
    assert chain[0] == _head(app) and chain[-1] == "0001_initial"
    assert [rev.revision[:4] for rev in reversed(list(script.walk_revisions()))] == \
        [f"{n:04d}" for n in range(1, len(chain) + 1)], "revisions are numbered in order"


def test_upgraded_database_is_at_the_head_and_matches_the_models(app):
    # The ``database_url`` fixture built this database with ``flask db upgrade``'s code path.
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "render_as_batch": True})
        diff = compare_metadata(context, db.metadata)
        assert context.get_current_revision() == _head(app)
    assert diff == [], f"models and migrations differ: {diff}"


def test_every_design_table_exists(app):
    names = set(db.inspect(db.engine).get_table_names())
    assert {"cohorts", "research_ids", "disclaimers", "disclaimer_acknowledgments", "conversations",
            "messages", "turn_metrics", "adherence_records", "staff_users", "audit_events"} <= names
