"""Property-based: no REST body, type or shape makes PaCo answer 5xx, log an unhandled error, or
answer with an error code that is not documented (docs/protocol.md). Runs on SQLite and PostgreSQL."""
from __future__ import annotations

import json
import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .documented import DOCUMENTED_CODES
from .strategies import checkin_bodies, content_types, json_values, raw_bodies, shaped_bodies

ENDPOINTS = ["/api/v1/auth/validate-research-id", "/api/v1/auth/acknowledge-disclaimer", "/api/v1/auth/login",
             "/api/v1/auth/logout", "/api/v1/chat/history", "/api/v1/adherence/checkin", "/api/v1/audio/speech"]
FUZZ = settings(max_examples=1200, deadline=None, derandomize=False,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.fixture
def api(make_app, caplog):
    from paco.services.demo import load_demo

    app = make_app(RATELIMIT_ENABLED=False)  # every case must reach the parsers, not the limiter
    with app.app_context():
        load_demo()
        yield app.test_client()


def _check(response, caplog):
    assert response.status_code < 500, (response.status_code, response.get_data()[:300])
    if response.status_code >= 400:
        body = response.get_json(silent=True)
        assert body is not None and set(body) == {"error"}, response.get_data()[:300]
        assert body["error"]["code"] in DOCUMENTED_CODES, body
        assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    unhandled = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not unhandled, unhandled[0].getMessage()


@FUZZ
@given(endpoint=st.sampled_from(ENDPOINTS), body=st.one_of(shaped_bodies, json_values), bearer=st.booleans())
def test_json_bodies_of_any_shape(api, caplog, endpoint, body, bearer):
    headers = {"Authorization": "Bearer x.y.z"} if bearer else {}
    try:
        data = json.dumps(body)
    except (ValueError, UnicodeEncodeError):
        return
    _check(api.post(endpoint, data=data, content_type="application/json", headers=headers), caplog)


@FUZZ
@given(endpoint=st.sampled_from(ENDPOINTS), raw=raw_bodies, content_type=content_types)
def test_raw_bodies_and_content_types(api, caplog, endpoint, raw, content_type):
    _check(api.post(endpoint, data=raw, content_type=content_type or None), caplog)


@FUZZ
@given(path=st.sampled_from(["/api/v1/auth/disclaimer", "/api/v1/auth/session", "/health", "/health/ready",
                             "/api/v1/chat/conversations", "/api/v1/audio/" + "a" * 64 + ".mp3",
                             "/api/v1/adherence/checkins"]),
       query=st.dictionaries(st.text(max_size=8), st.text(max_size=20), max_size=3),
       method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"]))
def test_other_paths_methods_and_queries(api, caplog, path, query, method):
    _check(api.open(path, method=method, query_string=query), caplog)


@pytest.fixture
def signed_in(api):
    api.post("/api/v1/auth/acknowledge-disclaimer", json={"research_id": "RID001"})
    token = api.post("/api/v1/auth/login", json={"research_id": "RID001"}).get_json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


@settings(max_examples=400, deadline=None, derandomize=False,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(endpoint=st.sampled_from(["/api/v1/adherence/checkin", "/api/v1/audio/speech"]),
       body=st.one_of(checkin_bodies, shaped_bodies))
def test_signed_in_check_ins_and_speech(api, signed_in, caplog, endpoint, body):
    try:
        data = json.dumps(body)
    except (ValueError, UnicodeEncodeError):
        return
    _check(api.post(endpoint, data=data, content_type="application/json", headers=signed_in), caplog)


@settings(max_examples=200, deadline=None, derandomize=False,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(query=st.dictionaries(st.sampled_from(["days", "tz_offset_minutes", "x"]), st.text(max_size=12), max_size=3))
def test_signed_in_check_in_list_queries(api, signed_in, caplog, query):
    _check(api.get("/api/v1/adherence/checkins", query_string=query, headers=signed_in), caplog)
