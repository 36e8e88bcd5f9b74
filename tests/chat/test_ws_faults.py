"""Provider faults, TTS faults and dropped clients: every turn still ends stored and the socket lives."""
from __future__ import annotations

import shutil
import time

from tests.standins.openai_server import DEFAULT_REPLY
from tests.support.chat import ChatClient, sign_in, types
from tests.support.server import LiveServer

from .conftest import server_env
from .test_ws_turns import stored


def test_error_before_first_token_falls_back_to_the_offline_answer(chat):
    chat.openai.configure(fault="http_500")
    client = chat.connect()
    client.ask("What is P.A.D.?")
    frames = client.turn()
    complete = next(f for f in frames if f["type"] == "complete")
    assert complete["status"] == "complete" and "P.A.D." in complete["full_response"]
    assert not any(f["type"] == "error" for f in frames)
    rows, (metrics,) = stored(chat.app)
    assert rows[1].provider == "curated" and rows[1].model.startswith("kb-") and rows[1].status == "complete"
    assert metrics.provider_errors == 1 and "openai: http 500" in metrics.error_detail


def test_no_first_token_in_time_falls_back(chat):
    chat.openai.configure(fault="stall_first")
    client = chat.connect()
    started = time.monotonic()
    client.ask("What is P.A.D.?")
    frames = client.turn()
    assert time.monotonic() - started < 8, "the first-token timeout (2 s here) must apply, not the SDK's 600 s"
    assert next(f for f in frames if f["type"] == "complete")["status"] == "complete"
    rows, (metrics,) = stored(chat.app)
    assert rows[1].provider == "curated"
    assert "no first token within 2s" in metrics.error_detail


def test_drop_after_first_tokens_keeps_partial_text_and_marks_interrupted(chat):
    chat.openai.configure(fault="drop_after", fault_after=25, faults_remaining=1)
    client = chat.connect()
    client.ask("What is P.A.D.?")
    frames = client.turn()
    assert types(frames)[:2] == ["saved", "chunk"]
    err = next(f for f in frames if f["type"] == "error")
    complete = next(f for f in frames if f["type"] == "complete")
    assert err["code"] == "provider_unavailable" and err["message_id"] == complete["message_id"]
    assert complete["status"] == "interrupted"
    partial = "".join(f["content"] for f in frames if f["type"] == "chunk")
    assert partial == complete["full_response"] and DEFAULT_REPLY.startswith(partial) and partial
    # The one complete sentence was spoken; the cut-off one was not.
    assert [f["text"] for f in frames if f["type"] == "audio"] == ["P.A.D. stands for peripheral artery disease."]
    rows, (metrics,) = stored(chat.app)
    assert (rows[1].status, rows[1].content, rows[1].provider) == ("interrupted", partial, "openai")
    assert metrics.provider_errors == 1

    # The socket stays usable: the next question gets a full answer.
    client.ask("What is P.A.D.?")
    frames = client.turn()
    assert next(f for f in frames if f["type"] == "complete")["status"] == "complete"


def test_stall_mid_stream_hits_the_idle_timeout(chat):
    chat.openai.configure(fault="stall_after", fault_after=5)
    client = chat.connect()
    client.ask("What is P.A.D.?")
    frames = client.turn()
    assert next(f for f in frames if f["type"] == "complete")["status"] == "interrupted"
    rows, (metrics,) = stored(chat.app)
    assert rows[1].status == "interrupted" and "no token for 1s" in metrics.error_detail


def test_every_provider_failing_stores_a_failed_turn(chat, tmp_path):
    chat.openai.configure(fault="http_500")
    # The curated fallback cannot fail on its own; a server whose chain is only openai can.
    env = server_env(chat, tmp_path, PACO_LLM_FALLBACK="openai")
    with LiveServer({"DATABASE_URL": chat.app.config["SQLALCHEMY_DATABASE_URI"], **env}) as server:
        client = ChatClient(server, sign_in(server, "RID004"), "RID004")
        client.ask("What is P.A.D.?", conversation_id="fails")
        frames = client.turn()
        client.close()
    assert types(frames) == ["saved", "error", "audio_end"]
    assert frames[1]["code"] == "provider_unavailable" and frames[1]["message_id"]
    rows, (metrics,) = stored(chat.app, conversation_id="fails")
    assert [(r.role, r.status) for r in rows] == [("user", "complete"), ("assistant", "failed")]
    assert metrics.provider_errors == 1


def test_tts_failure_keeps_the_text_and_ends_audio_with_audio_error(chat):
    chat.eleven.configure(fault="http_500")
    client = chat.connect()
    client.ask("What is P.A.D.?")
    frames = client.turn()
    complete = next(f for f in frames if f["type"] == "complete")
    assert complete["status"] == "complete" and complete["full_response"] == DEFAULT_REPLY
    assert frames[-1]["type"] == "audio_error" and frames[-1]["count"] == 0
    assert not any(f["type"] == "audio" for f in frames)
    rows, (metrics,) = stored(chat.app)
    assert rows[1].status == "complete" and metrics.tts_errors == 1 and "http 500" in metrics.error_detail


def test_tts_stall_does_not_hold_the_text(chat):
    chat.eleven.configure(fault="stall")
    chat.openai.configure(tokens_per_s=200)
    client = chat.connect()
    started = time.monotonic()
    client.ask("What is P.A.D.?")
    frames = client.turn()
    complete_at = next(i for i, f in enumerate(frames) if f["type"] == "complete")
    assert frames[-1]["type"] == "audio_error"
    assert complete_at < len(frames) - 1 and time.monotonic() - started < 10


def test_client_that_drops_mid_reply_stops_the_provider_and_keeps_what_was_written(chat):
    chat.openai.configure(tokens_per_s=40)  # the whole reply would take ~2.5 s
    client = chat.connect()
    client.ask("What is P.A.D.?")
    assert client.recv()["type"] == "user_message_saved"
    assert client.recv()["type"] == "chunk"
    client.close()
    rows, (metrics,) = stored(chat.app, timeout=15)
    assert [(r.role, r.status) for r in rows] == [("user", "complete"), ("assistant", "interrupted")]
    partial = rows[1].content
    assert partial and DEFAULT_REPLY.startswith(partial) and partial != DEFAULT_REPLY
    assert "client disconnected" in metrics.error_detail
    # The provider's stream was closed at once: no more tokens were paid for.
    time.sleep(1.0)
    [request] = [r for r in chat.openai.requests() if "tokens_total" in r]
    assert not request["finished"] and request["tokens_sent"] < request["tokens_total"] - 20, request

    # History shows it when the participant comes back.
    again = chat.connect()
    status, body, _ = chat.server.request("POST", "/api/v1/chat/history",
                                          {"research_id": "RID001", "conversation_id": "conv-1", "limit": 10},
                                          headers={"Authorization": f"Bearer {again.token}"})
    assert [(m["content"], m["status"]) for m in body["messages"]] == [("What is P.A.D.?", "complete"),
                                                                          (partial, "interrupted")]


def test_the_database_connections_dropped_under_a_running_server_the_next_turn_works(chat, database_url):
    import pytest
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    from paco.extensions import db

    if not database_url.startswith("postgresql"):
        pytest.skip("pg_terminate_backend is PostgreSQL's")
    client = chat.connect()
    client.ask("What is P.A.D.?", conversation_id="survives")
    assert types(client.turn())[-1] == "audio_end"
    admin = sa.create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1)
                             if database_url.startswith("postgresql://") else database_url)
    with admin.connect() as conn:
        killed = conn.execute(sa.text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                      "WHERE datname = :db AND pid <> pg_backend_pid()"),
                              {"db": make_url(database_url).database}).scalar()
    admin.dispose()
    assert killed >= 1
    with chat.app.app_context():  # the test's own pooled connections were among those ended
        db.engine.dispose()
    client.ask("And how do I walk more?", conversation_id="survives")
    frames = client.turn()
    assert [f["type"] for f in frames if f["type"] in ("user_message_saved", "complete")] == \
        ["user_message_saved", "complete"], frames
    rows, _ = stored(chat.app, "survives", wait_for_assistant=2)
    assert [r.role for r in rows] == ["user", "assistant", "user", "assistant"]


def test_a_rate_limited_provider_is_tried_again_within_the_turns_budget(chat):
    chat.openai.configure(fault="http_429", faults_remaining=2)
    client = chat.connect()
    client.ask("What is P.A.D.?", conversation_id="rate-limited")
    complete = next(f for f in client.turn() if f["type"] == "complete")
    assert complete["status"] == "complete"
    rows, _ = stored(chat.app, "rate-limited")
    assert rows[1].provider == "openai"  # answered by the model after two 429s, not the fallback
    assert len(chat.openai.requests()) == 3


def test_a_provider_that_stays_rate_limited_falls_back(chat):
    chat.openai.configure(fault="http_429")
    client = chat.connect()
    client.ask("What is P.A.D.?", conversation_id="still-limited")
    complete = next(f for f in client.turn() if f["type"] == "complete")
    rows, (metrics,) = stored(chat.app, "still-limited")
    assert complete["status"] == "complete" and rows[1].provider == "curated"
    assert "openai: http 429" in metrics.error_detail


def _three_turns_at_once(server) -> list[list[dict]]:
    clients = [ChatClient(server, sign_in(server, rid), rid) for rid in ("RID001", "RID002", "RID003")]
    for n, client in enumerate(clients):
        client.ask(f"What is P.A.D.? ({n})", conversation_id=f"busy-{n}")
    try:
        return [client.turn() for client in clients]
    finally:
        for client in clients:
            client.close()


def test_speech_past_the_providers_concurrency_limit_waits_instead_of_failing(chat, tmp_path):
    """An ElevenLabs account that allows 3 requests at once; three answers of 6 sentences start
    together (up to 6 requests). Capped at 2 per worker (headroom: the provider frees a slot a
    moment after the last byte), every sentence is spoken; uncapped, the provider refuses some
    and those turns end with audio_error. The text is complete either way."""
    chat.eleven.configure(max_concurrent=3, chunk_ms=100, chunk_bytes=4096)  # ~0.3 s in flight each
    sentences = 6
    url = chat.app.config["SQLALCHEMY_DATABASE_URI"]
    with LiveServer({"DATABASE_URL": url, **server_env(chat, tmp_path, PACO_TTS_MAX_CONCURRENT="2")}) as capped:
        turns = _three_turns_at_once(capped)
    for frames in turns:
        assert next(f for f in frames if f["type"] == "complete")["full_response"] == DEFAULT_REPLY
        assert frames[-1] == {"type": "audio_end", "count": sentences}, [f for f in frames if f["type"] != "chunk"]

    chat.eleven.configure(max_concurrent=3, chunk_ms=100, chunk_bytes=4096)
    shutil.rmtree(tmp_path / "audio", ignore_errors=True)  # nothing may come from the cache this time
    with LiveServer({"DATABASE_URL": url, **server_env(chat, tmp_path, PACO_TTS_MAX_CONCURRENT="0")}) as uncapped:
        turns = _three_turns_at_once(uncapped)
    assert all(next(f for f in frames if f["type"] == "complete")["full_response"] == DEFAULT_REPLY
               for frames in turns)
    assert any(frames[-1]["type"] == "audio_error" for frames in turns)
