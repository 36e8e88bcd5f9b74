"""``/metrics`` for operators: Prometheus text from allowed addresses or with the token; nobody else
learns it exists. Refusals are logged as structured security lines."""
from __future__ import annotations

import json
import logging


def test_metrics_from_an_allowed_address(client):
    response = client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    for name in ("paco_turns_total", "paco_first_audio_ms_bucket", "paco_first_token_ms_bucket",
                 "paco_provider_errors_total", "paco_fallbacks_total", "paco_open_sockets", "paco_limit_hits_total"):
        assert name in body


def test_metrics_are_hidden_from_other_addresses_unless_the_token_is_sent(app, client):
    outside = {"REMOTE_ADDR": "203.0.113.9"}
    assert client.get("/metrics", environ_base=outside).status_code == 404
    app.config["PACO_METRICS_TOKEN"] = "s3cret-metrics-token"
    assert client.get("/metrics", environ_base=outside,
                      headers={"Authorization": "Bearer wrong"}).status_code == 404
    assert client.get("/metrics", environ_base=outside,
                      headers={"Authorization": "Bearer s3cret-metrics-token"}).status_code == 200


def test_refusals_are_security_log_lines_without_secrets(client, demo, caplog):
    with caplog.at_level(logging.INFO, logger="paco.security"):
        client.get("/api/v1/auth/session", headers={"Authorization": "Bearer not.a.token"})
        client.post("/api/v1/auth/login", json={"research_id": "RID001"}, headers={"Origin": "https://evil.example"})
    lines = [r.msg for r in caplog.records if r.name == "paco.security"]
    assert [(line["event"], line["code"]) for line in lines] == [("auth_failure", "invalid_token"),
                                                                ("refused", "origin_not_allowed")]
    assert all(line["security"] is True for line in lines)
    assert "not.a.token" not in json.dumps(lines)
