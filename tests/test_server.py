"""PaCo served as the README serves it (gunicorn + gevent worker), walked over real HTTP."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.support.server import ROOT, LiveServer

pytestmark = pytest.mark.server


@pytest.fixture
def server(make_app, database_url, tmp_path):
    from paco.extensions import db
    from paco.services.demo import load_demo

    app = make_app()
    with app.app_context():
        load_demo()
        db.session.remove()
    log = tmp_path / "server.log"
    with LiveServer({"DATABASE_URL": database_url, "PACO_TTS_PROVIDER": "none",
                     "PACO_LOG_LEVEL": "INFO"}, log_path=str(log)) as live:
        live.log_file = log
        yield live


def test_seed_flow_over_http(server):
    status, body, _ = server.request("POST", "/api/v1/auth/validate-research-id", {"research_id": "RID007"})
    assert (status, body["valid"], body["disclaimer_required"]) == (200, True, True)
    status, disclaimer, _ = server.request("GET", "/api/v1/auth/disclaimer")
    assert status == 200 and disclaimer["version"] == 1
    status, body, _ = server.request("POST", "/api/v1/auth/acknowledge-disclaimer",
                                     {"research_id": "RID007", "version": disclaimer["version"]})
    assert (status, body["acknowledged"]) == (200, True)
    status, body, headers = server.request("POST", "/api/v1/auth/login", {"research_id": "RID007"})
    assert status == 200 and body["token_type"] == "bearer"
    token = body["access_token"]
    status, body, _ = server.request("POST", "/api/v1/chat/history",
                                     {"research_id": "RID007", "conversation_id": "RID007_20260101_000000", "limit": 50},  # noqa: E501
                                     headers={"Authorization": f"Bearer {token}"})
    assert (status, body["messages"]) == (200, [])
    status, body, _ = server.request("GET", "/health")
    assert (status, body) == (200, {"status": "healthy"})
    status, body, _ = server.request("GET", "/health/ready")
    assert (status, body) == (200, {"status": "ready", "database": "ok"})
    status, body, _ = server.request("POST", "/api/v1/auth/login", {"research_id": "RID007\u0000"})
    assert status == 400 and body["error"]["code"] == "invalid_research_id"

    server.stop()
    lines = [json.loads(line) for line in server.log_file.read_text().splitlines() if line.startswith("{")]
    requests = [line for line in lines if line.get("event") == "request"]
    logins = [r for r in requests if r["path"] == "/api/v1/auth/login"]
    assert [(r["method"], r["status"]) for r in logins] == [("POST", 200), ("POST", 400)]
    assert all(isinstance(r["duration_ms"], float) for r in requests)
    assert token not in server.log_file.read_text()


def test_gevent_patch_comes_before_psycopg():
    """If wsgi.py stops patching first, psycopg picks its blocking C wait and stalls the loop."""
    code = "import wsgi, psycopg.waiting as w; print(w.wait.__name__)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() != "wait_c"
