"""Throw-away databases for one test run: a SQLite file, or a PostgreSQL database of its own."""
from __future__ import annotations

import os
import uuid

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from paco.config import database_url

ENGINES = ["sqlite", "postgresql"]


def postgres_admin_url() -> str | None:
    raw = os.environ.get("TEST_DATABASE_URL")
    return database_url(raw) if raw else None


def create_database(engine_name: str, workdir: str) -> str:
    if engine_name == "sqlite":
        return f"sqlite:///{workdir}/paco-test-{uuid.uuid4().hex[:8]}.db"
    admin = postgres_admin_url()
    name = f"paco_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(admin).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and os.path.exists(parsed.database):
            os.remove(parsed.database)
        return
    engine = sa.create_engine(postgres_admin_url(), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    engine.dispose()


def empty_tables(engine: sa.Engine, metadata: sa.MetaData) -> None:
    """Remove every row so the next test starts clean (schema and migrations stay)."""
    tables = [t.name for t in metadata.sorted_tables]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            # The append-only tables refuse TRUNCATE (migration 0004) unless triggers are paused.
            conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
            conn.execute(sa.text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(tables):
                conn.execute(sa.text(f'DELETE FROM "{table}"'))
