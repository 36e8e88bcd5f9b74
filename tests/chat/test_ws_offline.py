"""The offline default (curated knowledge + espeak), safety replies, study arms and rate limits.

This server runs as `make serve` does with no keys, plus Redis when TEST_REDIS_URL is set
(shared rate-limit counters and audio cache, namespaced per run).
"""
from __future__ import annotations

import base64
import os
import uuid

import pytest

from paco.extensions import db
from paco.models import Cohort, ResearchID
from tests.support.chat import ChatClient, sign_in, types
from tests.support.server import LiveServer

from .test_ws_turns import stored


@pytest.fixture(scope="module")
def offline_server(database_url, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("offline")
    env = {"DATABASE_URL": database_url, "PACO_AUDIO_CACHE_DIR": str(tmp / "audio"),
           "PACO_RATE_LIMIT_CHAT": "4 per minute", "PACO_CURATED_DELAY_MS": "5",
           "PACO_REDIS_PREFIX": f"paco-test-{uuid.uuid4().hex[:8]}"}
    if os.environ.get("TEST_REDIS_URL"):
        env["REDIS_URL"] = os.environ["TEST_REDIS_URL"]
    with LiveServer(env, log_path=str(tmp / "server.log")) as server:
        yield server


@pytest.fixture
def offline(offline_server, make_app):
    from paco.services.demo import load_demo

    app = make_app()
    with app.app_context():
        load_demo()
        db.session.remove()
    clients = []

    def connect(research_id):
        client = ChatClient(offline_server, sign_in(offline_server, research_id), research_id)
        clients.append(client)
        return client

    yield app, connect
    for client in clients:
        client.close()


def test_offline_answer_from_the_knowledge_base_spoken_by_espeak(offline):
    app, connect = offline
    client = connect("RID001")
    client.ask("what is clopidogrel for")
    frames = client.turn()
    assert types(frames)[0] == "saved" and types(frames)[-1] == "audio_end"
    complete = next(f for f in frames if f["type"] == "complete")
    assert "clopidogrel" in complete["full_response"].lower() or "plavix" in complete["full_response"].lower()
    audio = [f for f in frames if f["type"] == "audio"]
    assert audio and frames[-1]["count"] == len(audio)
    mp3 = base64.b64decode(audio[0]["audio_base64"])
    assert len(mp3) > 1000 and mp3[0] == 0xFF and mp3[1] & 0xE0 == 0xE0  # an MPEG audio frame
    rows, (metrics,) = stored(app)
    assert (rows[1].provider, rows[1].status) == ("curated", "complete") and rows[1].model.startswith("kb-")
    assert metrics.first_audio_ms is not None and metrics.sentences == len(audio)


def test_unknown_topic_gets_the_honest_answer(offline):
    app, connect = offline
    client = connect("RID002")
    client.ask("who won the football game last night")
    complete = next(f for f in client.turn() if f["type"] == "complete")
    assert "I don't have information about that" in complete["full_response"]


def test_emergency_gets_the_fixed_reply_and_the_flag_is_stored(offline):
    app, connect = offline
    client = connect("RID003")
    client.ask("i have crushing chest pain right now and my arm hurts")
    frames = client.turn()
    complete = next(f for f in frames if f["type"] == "complete")
    assert "911" in complete["full_response"]
    rows, _ = stored(app)
    user, reply = rows
    assert complete["safety"] == {"category": "emergency", "rule": reply.safety_rule, "layer": "rules"}
    assert (user.safety_layer, reply.safety_layer) == ("rules", "rules")
    assert (user.safety_category, reply.safety_category) == ("emergency", "emergency")
    assert user.safety_rule and user.safety_rule == reply.safety_rule
    assert (reply.provider, reply.model) == ("safety", user.safety_rule)


def test_claudication_is_education_not_an_emergency(offline):
    app, connect = offline
    client = connect("RID004")
    client.ask("my legs hurt when i walk but it goes away when i rest")
    complete = next(f for f in client.turn() if f["type"] == "complete")
    assert "911" not in complete["full_response"] and "safety" not in complete
    rows, _ = stored(app)
    assert rows[0].safety_category is None


def test_study_arm_settings_apply(offline):
    app, connect = offline
    with app.app_context():
        cohort = Cohort(name="Text only arm", llm_provider="curated", tts_enabled=False, prompt_version="v1")
        db.session.add(cohort)
        db.session.flush()
        db.session.execute(db.update(ResearchID).where(ResearchID.research_id == "RID005")
                           .values(cohort_id=cohort.id))
        db.session.commit()
        db.session.remove()
    client = connect("RID005")
    client.ask("what is P.A.D.")
    frames = client.turn()
    assert not any(f["type"] == "audio" for f in frames)
    assert frames[-1] == {"type": "audio_end", "count": 0}


def test_fast_senders_are_rate_limited_and_told_when_to_retry(offline):
    app, connect = offline
    client = connect("RID006")
    for _ in range(4):
        client.ask("what is P.A.D.")
        client.turn()
    client.ask("what is P.A.D.")
    refused = client.recv()
    assert refused["type"] == "error" and refused["code"] == "rate_limited"
    assert 1 <= refused["retry_after"] <= 60
    rows, _ = stored(app, wait_for_assistant=4)
    assert len(rows) == 8, "the refused message is not stored"
