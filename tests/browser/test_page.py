"""The page as served (no browser needed): headers, local assets only, every module preloaded."""
from __future__ import annotations

import re
from pathlib import Path

from paco.web import MODULES

STATIC = Path(__file__).resolve().parents[2] / "paco" / "web" / "static"


def test_the_page_has_a_strict_policy_and_is_never_cached(client):
    response = client.get("/")
    assert response.status_code == 200
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy and "'unsafe" not in policy
    assert "connect-src 'self' ws://localhost wss://localhost" in policy
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    # The API keeps its own headers: the page's policy is set for the page's blueprint only.
    assert "Content-Security-Policy" not in client.get("/health").headers


def test_every_asset_is_local_and_served(client):
    html = client.get("/").get_data(as_text=True)
    links = re.findall(r'(?:href|src)="([^"#]+)"', html)
    assert links and all(link.startswith("/static/web/") for link in links), links
    for link in links:
        assert client.get(link).status_code == 200, link
    preloaded = re.findall(r'<link rel="modulepreload" href="/static/web/js/([^"]+)"', html)
    assert sorted(preloaded) == MODULES and "app.js" in MODULES
    for path in STATIC.rglob("*"):
        if path.suffix in {".js", ".css"}:
            text = path.read_text().replace("http://www.w3.org/2000/svg", "")  # a namespace, not a load
            assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", text), f"{path.name} names another site"


def test_modules_are_served_as_javascript(client):
    response = client.get("/static/web/js/app.js")
    assert response.mimetype in ("text/javascript", "application/javascript")
