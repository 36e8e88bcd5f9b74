"""Browser tests: Debian's Chromium driven by Playwright against a live offline PaCo (gunicorn).

One browser and one server for the whole run; a fresh browser context (cookies, storage) and a
page per test. Every test also checks, when it ends, that the page asked nothing of any other
origin and threw no JavaScript error.

They run on SQLite only: what they add is the page's behaviour; the server behaviour they drive
is covered on PostgreSQL too by tests/chat and the API tests.
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from paco import create_app
from paco.extensions import db
from paco.services.demo import load_demo
from tests.support.databases import empty_tables
from tests.support.server import LiveServer

from .visit import PHONE, Visit

CHROMIUM = os.environ.get("PACO_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="session")
def web_server(database_url, tmp_path_factory):
    if not database_url.startswith("sqlite"):
        pytest.skip("browser tests run on SQLite only (the server paths they drive are tested on PostgreSQL elsewhere)")
    tmp = tmp_path_factory.mktemp("web")
    env = {
        "DATABASE_URL": database_url,
        "PACO_AUDIO_CACHE_DIR": str(tmp / "audio"),
        # Every test signs in from 127.0.0.1: the per-IP sign-in limit would trip across tests.
        "PACO_RATE_LIMIT_AUTH": "10000 per minute",
        "PACO_RATE_LIMIT_CHAT": "1000 per minute",
        "PACO_RATE_LIMIT_CHECKINS": "1000 per minute",
        "PACO_RATE_LIMIT_SPEECH": "1000 per minute",
        # Slow enough that streaming is visible, fast enough to keep the suite quick.
        "PACO_CURATED_DELAY_MS": "6",
        "PACO_REDIS_PREFIX": f"paco-web-{uuid.uuid4().hex[:8]}",
        "PACO_LOG_LEVEL": "WARNING",
    }
    with LiveServer(env, log_path=str(tmp / "server.log")) as server:
        yield server


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def site_app(web_server, database_url):
    """The tests' own view of the server's database (no admin site: building that per test is slow)."""
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url})
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def site(site_app):
    """A clean database with the demo IDs (RID001-RID010, disclaimer v1); the app for checks."""
    with site_app.app_context():
        load_demo()
        db.session.remove()
    yield site_app
    with site_app.app_context():
        db.session.remove()
        empty_tables(db.engine, db.metadata)


@pytest.fixture
def visit(browser, web_server, site):
    context = browser.new_context(viewport=PHONE, locale="en-US")
    visit = Visit(context, web_server, site)
    yield visit
    context.close()
    outside = [url for url in visit.requested
               if not url.startswith((web_server.url + "/", web_server.ws_url + "/", "blob:", "data:"))]
    assert not outside, f"the page reached outside the app: {outside}"
    assert not visit.errors, f"JavaScript errors: {visit.errors}"


@pytest.fixture(scope="session")
def screenshots() -> Path:
    folder = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
