"""The deny-list of signed-out tokens, on each store it can live in: the database, or Redis."""
from __future__ import annotations

import os
import time
import uuid

import pytest

from paco.services.revocation import RevocationList


def _check(revocations: RevocationList):
    jti, other = str(uuid.uuid4()), str(uuid.uuid4())
    assert not revocations.is_revoked(jti)
    revocations.revoke(jti, time.time() + 60)
    revocations.revoke(jti, time.time() + 60)  # signing out twice is harmless
    assert revocations.is_revoked(jti) and not revocations.is_revoked(other)
    assert not revocations.is_revoked(None)


def test_in_the_database(app):
    _check(RevocationList())


def test_in_the_database_expired_entries_are_purged(app):
    from paco.extensions import db
    from paco.models import RevokedToken

    revocations = RevocationList()
    revocations.revoke("old", time.time() - 5)
    revocations.revoke("new", time.time() + 60)
    assert set(db.session.execute(db.select(RevokedToken.jti)).scalars()) == {"new"}


def test_in_redis_each_entry_expires_with_its_token():
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        pytest.skip("TEST_REDIS_URL is not set")
    import redis

    client = redis.Redis.from_url(url)
    prefix = f"paco-test-{uuid.uuid4().hex[:8]}"
    revocations = RevocationList(client, prefix)
    _check(revocations)
    jti = str(uuid.uuid4())
    revocations.revoke(jti, time.time() + 30)
    assert 0 < client.ttl(f"{prefix}:revoked:{jti}") <= 31
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)


def test_an_unreachable_redis_answers_unavailable_never_valid():
    import redis

    from paco.errors import Unavailable

    down = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2, socket_timeout=0.2)
    revocations = RevocationList(down, "paco-test")
    with pytest.raises(Unavailable):
        revocations.is_revoked("some-jti")
    with pytest.raises(Unavailable):
        revocations.revoke("some-jti", time.time() + 60)


def test_with_redis_down_sign_in_still_works_and_a_signed_in_request_is_503_not_500(make_app):
    """Rate limits fall back to counting in the worker; the deny-list cannot be read, so a request
    that needs it is refused as unavailable (never let through, never a 500)."""
    from paco.services.demo import load_demo

    app = make_app(REDIS_URL="redis://127.0.0.1:1/0")
    with app.app_context():
        load_demo()
        client = app.test_client()
        assert client.post("/api/v1/auth/acknowledge-disclaimer", json={"research_id": "RID001"}).status_code == 200
        login = client.post("/api/v1/auth/login", json={"research_id": "RID001"})
        assert login.status_code == 200
        token = login.get_json()["access_token"]
        session = client.get("/api/v1/auth/session", headers={"Authorization": f"Bearer {token}"})
        assert session.status_code == 503 and session.get_json()["error"]["code"] == "unavailable"
