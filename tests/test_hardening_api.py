"""Bad input and cross-site calls found when the API was probed from outside: each is refused with a
specific error, nothing is stored, and no statement parameter reaches the log."""
from __future__ import annotations

import json
import logging

import pytest

from paco.extensions import db
from paco.models import DisclaimerAcknowledgment

API = "/api/v1/auth"


def test_deeply_nested_json_is_a_bad_request_not_a_crash(client, demo):
    too_deep = '{"research_id": "RID001", "x": ' + "[" * 40 + "]" * 40 + "}"  # parses, but past the limit
    for body in ("[" * 1100 + "]" * 1100, too_deep):
        response = client.post(f"{API}/validate-research-id", data=body, content_type="application/json")
        assert response.status_code == 400
        assert response.get_json()["error"]["code"] == "bad_request"
        assert "levels deep" in response.get_json()["error"]["message"]


@pytest.mark.parametrize("research_id", ["RID\u0000001", "RID\ud800"])
def test_text_no_database_can_hold_is_refused_by_name(client, demo, research_id, caplog):
    body = json.dumps({"research_id": research_id, "version": 1})  # \\u escapes: valid JSON
    with caplog.at_level(logging.DEBUG):
        response = client.post(f"{API}/acknowledge-disclaimer", data=body, content_type="application/json")
    assert response.status_code == 400
    # Research IDs have a stricter rule of their own; free text (chat frames) gets "invalid_text".
    assert response.get_json()["error"]["code"] == "invalid_research_id"
    assert "\x00" not in caplog.text and "RID\ud800" not in caplog.text
    assert db.session.execute(db.select(db.func.count(DisclaimerAcknowledgment.id))).scalar() == 0


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"])
def test_sign_in_reads_only_json_so_a_cross_site_form_cannot_post(client, demo, content_type):
    client.post(f"{API}/acknowledge-disclaimer", json={"research_id": "RID001", "version": 1})
    response = client.post(f"{API}/login", data='{"research_id": "RID001"}', content_type=content_type)
    assert response.status_code == 415
    assert response.get_json()["error"]["code"] == "unsupported_media_type"
    assert "Set-Cookie" not in response.headers


def test_a_foreign_origin_cannot_sign_in_but_the_site_and_scripts_can(client, demo):
    client.post(f"{API}/acknowledge-disclaimer", json={"research_id": "RID001", "version": 1})
    foreign = client.post(f"{API}/login", json={"research_id": "RID001"}, headers={"Origin": "https://evil.example"})
    assert foreign.status_code == 403 and foreign.get_json()["error"]["code"] == "origin_not_allowed"
    assert "Set-Cookie" not in foreign.headers
    same_site = client.post(f"{API}/login", json={"research_id": "RID001"}, headers={"Origin": "http://localhost"})
    assert same_site.status_code == 200
    assert client.post(f"{API}/login", json={"research_id": "RID001"}).status_code == 200  # no Origin: a script
    assert client.post(f"{API}/logout").status_code == 200  # no body, no type: allowed


@pytest.mark.parametrize("path", ["/", "/health", "/api/v1/auth/disclaimer", "/admin/login/", "/nowhere"])
def test_every_response_says_nosniff_and_keeps_referrers_on_site(client, demo, path):
    response = client.get(path)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in response.headers  # not in development


def test_the_admin_site_has_a_content_security_policy_with_a_nonce(client):
    csp = client.get("/admin/login/").headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "script-src 'self' 'nonce-" in csp and "unsafe-eval" not in csp


def test_production_adds_hsts(app, client):
    app.config["PACO_ENV"] = "production"  # read per response; the refusals at start are tested in test_config
    assert client.get("/health").headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def _signed_in(client, research_id="RID001") -> str:
    client.post(f"{API}/acknowledge-disclaimer", json={"research_id": research_id, "version": 1})
    return client.post(f"{API}/login", json={"research_id": research_id}).get_json()["access_token"]


def test_signing_out_revokes_the_bearer_token_at_once(client, demo):
    token = _signed_in(client)
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get(f"{API}/session", headers=bearer).status_code == 200
    assert client.post(f"{API}/logout", headers=bearer).status_code == 200
    refused = client.get(f"{API}/session", headers=bearer)
    assert refused.status_code == 401 and refused.get_json()["error"]["code"] == "token_revoked"
    # A new sign-in gets a new token that works.
    assert client.get(f"{API}/session", headers={"Authorization": f"Bearer {_signed_in(client)}"}).status_code == 200


def test_the_session_cookie_lives_as_long_as_its_token(client, demo):
    client.post(f"{API}/acknowledge-disclaimer", json={"research_id": "RID001", "version": 1})
    cookies = client.post(f"{API}/login", json={"research_id": "RID001"}).headers.getlist("Set-Cookie")
    access = next(c for c in cookies if c.startswith("access_token_cookie="))
    assert "Max-Age=86400" in access


def test_simultaneous_acknowledgments_store_one_row(app, demo):
    from sqlalchemy.exc import IntegrityError

    from paco.services import consent
    disclaimer = consent.current_disclaimer()
    consent.acknowledge("RID004", disclaimer, "first")
    duplicate = DisclaimerAcknowledgment(research_id="RID004", disclaimer_id=disclaimer.id, version=1,
                                         content_hash=disclaimer.content_hash, user_agent="second")
    db.session.add(duplicate)
    with pytest.raises(IntegrityError):  # the database itself refuses the second row
        db.session.commit()
    db.session.rollback()
    assert db.session.execute(db.select(db.func.count(DisclaimerAcknowledgment.id))).scalar() == 1
