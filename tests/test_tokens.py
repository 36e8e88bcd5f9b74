"""JWT rules: HS256 only, 24 h, claims; every bad token is a 401 with a JSON error."""
from __future__ import annotations

import base64
import json
import time
import uuid

import jwt as pyjwt
import pytest

from paco.extensions import db
from paco.models import ResearchID

HISTORY = "/api/v1/chat/history"
BODY = {"research_id": "RID001", "conversation_id": "conv-1", "limit": 5}


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(**overrides):
    now = int(time.time())
    claims = {"sub": "RID001", "jti": str(uuid.uuid4()), "type": "access", "fresh": False,
              "iat": now, "nbf": now, "exp": now + 3600}
    claims.update(overrides)
    return claims


def _history(client, token):
    return client.post(HISTORY, json=BODY, headers={"Authorization": f"Bearer {token}"})


def test_token_claims(app, client, login):
    token = login("RID001")["Authorization"].split()[1]
    header = pyjwt.get_unverified_header(token)
    claims = pyjwt.decode(token, app.config["JWT_SECRET_KEY"], algorithms=["HS256"])
    assert header["alg"] == "HS256"
    assert claims["sub"] == "RID001" and claims["type"] == "access" and claims["jti"]
    assert claims["exp"] - claims["iat"] == 24 * 3600
    assert _history(client, token).status_code == 200


@pytest.mark.parametrize("case", ["expired", "forged", "alg_none", "wrong_key", "garbage", "hs512", "refresh_type"])
def test_bad_tokens_are_401_json(app, client, login, case):
    login("RID001")
    key = app.config["JWT_SECRET_KEY"]
    if case == "expired":
        token = pyjwt.encode(_claims(exp=int(time.time()) - 10), key, algorithm="HS256")
        expected = "token_expired"
    elif case == "forged":
        good = pyjwt.encode(_claims(), key, algorithm="HS256")
        head, _, sig = good.split(".")
        token = f"{head}.{_b64(_claims(sub='RID002'))}.{sig}"
        expected = "invalid_token"
    elif case == "alg_none":
        token = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims())}."
        expected = "invalid_token"
    elif case == "wrong_key":
        token = pyjwt.encode(_claims(), "another-secret-key-of-sufficient-length-000000", algorithm="HS256")
        expected = "invalid_token"
    elif case == "hs512":
        token = pyjwt.encode(_claims(), key, algorithm="HS512")
        expected = "invalid_token"
    elif case == "refresh_type":
        token = pyjwt.encode(_claims(type="refresh"), key, algorithm="HS256")
        expected = "invalid_token"
    else:
        token = "not.a.token"
        expected = "invalid_token"
    r = _history(client.application.test_client(), token)
    assert r.status_code == 401, r.get_json()
    assert r.get_json()["error"]["code"] == expected


def test_missing_token(client, demo):
    r = client.post(HISTORY, json=BODY)
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "missing_token"


def test_deactivated_id_is_refused_at_once_with_a_valid_token(client, login):
    headers = login("RID001")
    assert client.post(HISTORY, json=BODY, headers=headers).status_code == 200
    db.session.execute(db.update(ResearchID).where(ResearchID.research_id == "RID001").values(status="withdrawn"))
    db.session.commit()
    r = client.post(HISTORY, json=BODY, headers=headers)
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "research_id_inactive"


def test_cookie_session_needs_the_csrf_header(client, login):
    login("RID001")
    fresh = client.application.test_client()
    # Sign in through the cookie only (what the web app does).
    fresh.post("/api/v1/auth/login", json={"research_id": "RID001"})
    r = fresh.post(HISTORY, json=BODY)
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "csrf_missing"
    csrf = fresh.get_cookie("csrf_access_token").value
    r = fresh.post(HISTORY, json=BODY, headers={"X-CSRF-TOKEN": csrf})
    assert r.status_code == 200
