"""A participant asks over the WebSocket; the answer streams, is spoken, and is stored."""
from __future__ import annotations

import base64
import time
import urllib.request

from paco.extensions import db
from paco.models import Message, TurnMetrics
from tests.standins.openai_server import DEFAULT_REPLY
from tests.support.chat import types


def stored(app, conversation_id="conv-1", wait_for_assistant=1, timeout=10.0):
    """The conversation's rows, once the expected assistant rows exist (turns finish after frames)."""
    deadline = time.monotonic() + timeout
    with app.app_context():
        while True:
            rows = db.session.execute(
                db.select(Message).where(Message.conversation_id == conversation_id).order_by(Message.id)
            ).scalars().all()
            done = sum(m.role == "assistant" for m in rows) >= wait_for_assistant
            metrics = db.session.execute(db.select(TurnMetrics)).scalars().all()
            if (done and len(metrics) >= wait_for_assistant) or time.monotonic() > deadline:
                for row in rows:
                    db.session.expunge(row)
                for row in metrics:
                    db.session.expunge(row)
                db.session.remove()
                return rows, metrics
            db.session.remove()
            time.sleep(0.05)


def test_answer_streams_is_spoken_in_order_and_is_stored(chat):
    chat.openai.configure(tokens_per_s=40)  # a real pace: speech must start while text streams
    client = chat.connect()
    client.ask("What is P.A.D.?", model="gpt-4o")
    frames = client.turn()

    assert frames[0]["type"] == "user_message_saved"
    assert types(frames)[-2:] == ["complete", "audio_end"] or types(frames)[-3:] == ["complete", "audio", "audio_end"]
    chunks = [f["content"] for f in frames if f["type"] == "chunk"]
    complete = next(f for f in frames if f["type"] == "complete")
    assert "".join(chunks) == complete["full_response"] == DEFAULT_REPLY
    assert complete["status"] == "complete"
    # Speech started before the text finished: the first audio frame came before `complete`.
    assert frames.index(next(f for f in frames if f["type"] == "audio")) < frames.index(complete)

    audio = [f for f in frames if f["type"] == "audio"]
    assert [f["seq"] for f in audio] == list(range(1, len(audio) + 1))
    assert len(audio) == 6 and audio[0]["text"].startswith("P.A.D. stands for peripheral artery disease.")
    assert " ".join(f["text"] for f in audio) == DEFAULT_REPLY
    assert frames[-1] == {"type": "audio_end", "count": 6}
    for f in audio:
        assert f["format"] == "mp3" and f["audio_url"].startswith("/api/v1/audio/") and f["audio_url"].endswith(".mp3")
        assert base64.b64decode(f["audio_base64"])[:1] in (b"\xff", b"I")  # MPEG frame sync or ID3

    rows, metrics = stored(chat.app)
    user, reply = rows
    assert (user.role, user.content, user.id) == ("user", "What is P.A.D.?", frames[0]["message_id"])
    assert (reply.role, reply.status, reply.content, reply.id) == ("assistant", "complete", DEFAULT_REPLY,
                                                                   complete["message_id"])
    assert (reply.provider, reply.model, reply.prompt_version) == ("openai", "gpt-4o", "v1")
    (m,) = metrics
    assert m.message_id == reply.id
    assert 0 < m.first_token_ms <= m.first_sentence_ms <= m.first_audio_ms <= m.total_ms
    assert m.sentences == 6 and m.response_chars == len(DEFAULT_REPLY) and m.response_tokens > 0
    assert m.provider_errors == 0 and m.tts_errors == 0 and m.tts_ms > 0

    # What the LLM and the TTS stand-ins were asked.
    (llm_request,) = chat.openai.requests()
    body = llm_request["json"]
    assert body["model"] == "gpt-4o" and body["stream"] is True
    assert body["messages"][0]["role"] == "system" and "PaCo" in body["messages"][0]["content"]
    assert body["messages"][-1] == {"role": "user", "content": "What is P.A.D.?"}
    tts_requests = chat.eleven.requests()
    assert len(tts_requests) == 6
    assert tts_requests[0]["path"] == "/v1/text-to-speech/9BWtsMINqrJLrRacOk9x/stream"
    assert "output_format=mp3_22050_32" in tts_requests[0]["query"]
    assert tts_requests[0]["headers"]["xi-api-key"] == "el-test-standin"


def test_audio_url_serves_the_same_bytes_to_a_signed_in_participant(chat):
    client = chat.connect()
    client.ask("What is P.A.D.?")
    frames = client.turn()
    first = next(f for f in frames if f["type"] == "audio")
    req = urllib.request.Request(chat.server.url + first["audio_url"],
                                 headers={"Authorization": f"Bearer {client.token}"})
    with urllib.request.urlopen(req, timeout=5) as resp:
        assert resp.headers["Content-Type"] == "audio/mpeg"
        assert resp.read() == base64.b64decode(first["audio_base64"])
    status, body, _ = chat.server.request("GET", first["audio_url"])
    assert status == 401
    status, body, _ = chat.server.request("GET", "/api/v1/audio/not-a-hash.mp3",
                                          headers={"Authorization": f"Bearer {client.token}"})
    assert status == 404 and body["error"]["code"] == "audio_not_found"


def test_previous_turns_go_to_the_model_and_repeated_sentences_come_from_the_cache(chat):
    client = chat.connect()
    client.ask("What is P.A.D.?")
    client.turn()
    client.ask("Tell me more")
    client.turn()
    first, second = chat.openai.requests()
    messages = second["json"]["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert messages[1]["content"] == "What is P.A.D.?" and messages[2]["content"] == DEFAULT_REPLY
    assert len(chat.eleven.requests()) == 6, "the second, identical reply must not call TTS again"
    rows, metrics = stored(chat.app, wait_for_assistant=2)
    assert [m.audio_cache_hits for m in metrics] == [0, 6]


def test_seed_client_frames_work_unchanged(chat):
    client = chat.connect("RID002")
    # Exactly the seed's frame: token, research_id, conversation_id, message, model.
    client.send({"token": client.token, "research_id": "RID002", "conversation_id": "RID002_20250101_123456",
                 "message": "What is P.A.D.?", "model": "gpt-4o"})
    frames = client.turn()
    assert types(frames)[0] == "saved" and "complete" in types(frames)
    status, body, _ = chat.server.request(
        "POST", "/api/v1/chat/history", {"research_id": "RID002", "conversation_id": "RID002_20250101_123456",
                                         "limit": 50}, headers={"Authorization": f"Bearer {client.token}"})
    assert [(m["role"], m["content"]) for m in body["messages"]] == [("user", "What is P.A.D.?"),
                                                                    ("assistant", DEFAULT_REPLY)]


def test_a_model_outside_the_allow_list_gets_the_default(chat):
    client = chat.connect()
    client.ask("What is P.A.D.?", model="o1-pro-expensive")
    client.turn()
    assert chat.openai.requests()[0]["json"]["model"] == "gpt-4o-mini"


def test_cookie_signed_in_socket_needs_no_token_in_frames(chat):
    from tests.support.chat import sign_in

    token = sign_in(chat.server, "RID003")
    client = chat.connect("RID003", signed_in=False, cookie=f"access_token_cookie={token}",
                          origin=chat.server.url)
    client.ask("What is P.A.D.?", conversation_id="cookie-conv")
    frames = client.turn()
    assert frames[0]["type"] == "user_message_saved" and frames[-1]["type"] == "audio_end"


def test_ping_gets_pong(chat):
    client = chat.connect()
    assert client.ping() == {"type": "pong"}


def test_an_llm_answer_is_checked_for_its_reading_grade(chat):
    plain = "Walk a little every day. Rest when your legs hurt. Then walk again."
    hard = ("Pharmacological antiplatelet monotherapy substantially attenuates atherothrombotic "
            "complications, notwithstanding considerable interindividual pharmacokinetic variability.")
    client = chat.connect()
    for n, reply in enumerate((plain, hard)):
        chat.openai.configure(reply=reply)
        client.ask("What should I do?", conversation_id=f"grade-{n}")
        client.turn()
    with chat.app.app_context():
        grades = [m.reply_grade for m in db.session.execute(
            db.select(TurnMetrics).order_by(TurnMetrics.id)).scalars()]
        db.session.remove()
    assert len(grades) == 2 and grades[0] <= 6 < grades[1]
