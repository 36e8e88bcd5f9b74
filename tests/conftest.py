"""Fixtures: ``app``, ``client``, ``runner``, ``db_session``, login helpers, a live server.

Every test that uses ``app`` runs once on SQLite and, when ``TEST_DATABASE_URL`` is set, once
more on PostgreSQL. Each engine gets a database of its own for the whole run (built by the
real migrations), and every test starts from empty tables.
"""
from __future__ import annotations

import os
import tempfile
import uuid

import pytest
from flask import current_app, g, has_app_context
from flask.testing import FlaskClient

_WORKDIR = tempfile.mkdtemp(prefix="paco-tests-")
# Before paco is imported: keep the run's instance files (secret, audio cache) out of the checkout.
os.environ.setdefault("PACO_INSTANCE_DIR", _WORKDIR)
os.environ["SECRET_KEY"] = "test-secret-key-that-is-long-enough-for-hs256-0123456789"
os.environ.pop("JWT_SECRET_KEY", None)
os.environ.setdefault("PACO_LOG_LEVEL", "WARNING")
for _name in ("DATABASE_URL", "OPENAI_API_KEY", "GROQ_API_KEY", "ELEVENLABS_API_KEY", "PACO_ENV",
              "PACO_LLM_PROVIDER", "PACO_TTS_PROVIDER", "REDIS_URL"):
    os.environ.pop(_name, None)

from paco import create_app  # noqa: E402
from paco.extensions import db as _db  # noqa: E402
from tests.support.databases import ENGINES, create_database, drop_database, empty_tables, postgres_admin_url  # noqa: E402
from tests.support.site import compose_site  # noqa: E402

TEST_SETTINGS = {
    "TESTING": True,
    "PACO_CURATED_DELAY_MS": 0,
    "PACO_TTS_PROVIDER": "none",
}


def pytest_configure(config):
    config.addinivalue_line("markers", "server: starts a real gunicorn server")


class FreshGClient(FlaskClient):
    """A test client whose every request starts with an empty ``g``, as in production.

    The ``app`` fixture keeps an app context pushed (test bodies read the database), and Flask
    reuses a pushed context for test-client requests; without this, what Flask-Login, Flask-WTF
    and Flask-Admin cache in ``g`` (signed-in user, CSRF token) would carry over between requests.
    """

    def open(self, *args, **kwargs):
        if has_app_context() and current_app._get_current_object() is self.application:
            g.__dict__.clear()
        return super().open(*args, **kwargs)


@pytest.fixture(scope="session", params=ENGINES)
def database_url(request):
    if request.param == "postgresql" and not postgres_admin_url():
        pytest.skip("TEST_DATABASE_URL is not set: PostgreSQL runs are skipped")
    url = create_database(request.param, _WORKDIR)
    app = create_app({**TEST_SETTINGS, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        _db.engine.dispose()
    yield url
    drop_database(url)


@pytest.fixture
def make_app(database_url):
    """Build an app on this run's database with extra settings; tables are emptied afterwards."""
    built = []

    def factory(**overrides):
        # Each app's audit checkpoints in a file of its own: tables are emptied between tests.
        anchors = os.path.join(_WORKDIR, f"audit-anchors-{uuid.uuid4().hex[:8]}.jsonl")
        app = compose_site(create_app({**TEST_SETTINGS, "SQLALCHEMY_DATABASE_URI": database_url,
                                       "PACO_AUDIT_ANCHOR_FILE": anchors, **overrides}))
        app.test_client_class = FreshGClient
        built.append(app)
        return app

    yield factory
    for app in built:
        with app.app_context():
            _db.session.remove()
            empty_tables(_db.engine, _db.metadata)
            _db.engine.dispose()


@pytest.fixture
def app(make_app):
    app = make_app()
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def demo(app):
    from paco.services.demo import load_demo

    load_demo()
    return app


@pytest.fixture
def login(client, demo):
    """Acknowledge the disclaimer and sign in; returns the Authorization header for the ID."""

    def do_login(research_id: str = "RID001") -> dict:
        ack = client.post("/api/v1/auth/acknowledge-disclaimer", json={"research_id": research_id})
        assert ack.status_code == 200, ack.get_json()
        response = client.post("/api/v1/auth/login", json={"research_id": research_id})
        assert response.status_code == 200, response.get_json()
        return {"Authorization": f"Bearer {response.get_json()['access_token']}"}

    return do_login
