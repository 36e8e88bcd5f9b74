"""Any stored answer can be heard again, and the check-in card read aloud: ``POST /api/v1/audio/speech``
serves cached sentences at no cost and synthesises the rest on demand (live server, both databases)."""
from __future__ import annotations

import urllib.request

from paco.extensions import db
from paco.models import Cohort, Conversation, Message, TurnMetrics

SPEECH = "/api/v1/audio/speech"


def _post(chat, token, body):
    return chat.server.request("POST", SPEECH, body, {"Authorization": f"Bearer {token}"})


def _stored_answer(chat, research_id, text, conversation_id=None) -> int:
    """An answer in the database that was never spoken (e.g. written while speech was off)."""
    with chat.app.app_context():
        conversation_id = conversation_id or f"{research_id}-old"
        known = db.select(Conversation).where(Conversation.conversation_id == conversation_id)
        if not db.session.execute(known).first():
            db.session.add(Conversation(research_id=research_id, conversation_id=conversation_id))
        message = Message(conversation_id=conversation_id, role="assistant", content=text, status="complete",
                          provider="curated")
        db.session.add(message)
        db.session.commit()
        message_id = message.id
        db.session.remove()
    return message_id


def _cohort(chat, **settings):
    with chat.app.app_context():
        cohort = db.session.execute(db.select(Cohort).where(Cohort.name == "Demo cohort")).scalar_one()
        for name, value in settings.items():
            setattr(cohort, name, value)
        db.session.commit()
        db.session.remove()


def _fetch(chat, token, url) -> bytes:
    request = urllib.request.Request(chat.server.url + url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.headers["Content-Type"] == "audio/mpeg"
        return response.read()


def test_an_answer_spoken_live_is_replayed_from_the_cache(chat):
    client = chat.connect()
    client.ask("What is P.A.D.?")
    frames = client.turn()
    live = [f["audio_url"] for f in frames if f["type"] == "audio"]
    reply_id = next(f for f in frames if f["type"] == "complete")["message_id"]
    spoken_live = len(chat.eleven.requests())
    status, body, _ = _post(chat, client.token, {"message_id": reply_id})
    assert status == 200, body
    assert body["message_id"] == reply_id and [a["audio_url"] for a in body["audio"]] == live
    assert [a["seq"] for a in body["audio"]] == list(range(1, len(live) + 1))
    assert len(chat.eleven.requests()) == spoken_live  # nothing synthesised again


def test_an_answer_never_spoken_is_synthesised_on_demand(chat):
    client = chat.connect()
    message_id = _stored_answer(chat, "RID001", "Walking helps your legs. Start slowly. Rest when it hurts.")
    status, body, _ = _post(chat, client.token, {"message_id": message_id})
    assert status == 200, body
    assert [a["text"] for a in body["audio"]] == ["Walking helps your legs.", "Start slowly.", "Rest when it hurts."]
    assert len(chat.eleven.requests()) == 3
    for item in body["audio"]:
        assert _fetch(chat, client.token, item["audio_url"])[:1] in (b"\xff", b"I")
    again = _post(chat, client.token, {"message_id": message_id})[1]
    assert again == body and len(chat.eleven.requests()) == 3  # the second time from the cache


def test_the_check_in_card_is_read_aloud(chat):
    client = chat.connect()
    status, body, _ = _post(chat, client.token, {"prompt": "checkin"})
    assert status == 200, body
    assert [a["text"] for a in body["audio"]] == ["Did you take your P.A.D. medicines today?",
                                                   "Choose: all of them, some of them, or none of them."]
    reasons = _post(chat, client.token, {"prompt": "checkin_reason"})[1]["audio"]
    assert reasons[0]["text"] == "What got in the way?"


def test_only_the_participants_own_answers_and_well_formed_requests(chat):
    client = chat.connect()
    theirs = _stored_answer(chat, "RID002", "Not yours to hear.")
    client.ask("What is P.A.D.?")
    question_id = client.turn()[0]["message_id"]
    for body, status, code in [({"message_id": theirs}, 404, "message_not_found"),
                               ({"message_id": question_id}, 404, "message_not_found"),
                               ({"message_id": 10**9}, 404, "message_not_found"),
                               ({"message_id": "1"}, 400, "invalid_field"),
                               ({}, 400, "missing_field"),
                               ({"message_id": theirs, "prompt": "checkin"}, 400, "missing_field"),
                               ({"prompt": "anything"}, 400, "invalid_field")]:
        got_status, answer, _ = _post(chat, client.token, body)
        assert (got_status, answer["error"]["code"]) == (status, code), body
    assert chat.server.request("POST", SPEECH, {"prompt": "checkin"})[0] == 401
    foreign = chat.server.request("POST", SPEECH, {"prompt": "checkin"},
                                  {"Authorization": f"Bearer {client.token}", "Origin": "https://evil.example"})
    assert foreign[0] == 403 and foreign[1]["error"]["code"] == "origin_not_allowed"


def test_speech_off_daily_cap_and_a_failing_voice_are_said_plainly(chat):
    client = chat.connect()
    message_id = _stored_answer(chat, "RID001", "A short answer.")
    _cohort(chat, tts_enabled=False)
    status, body, _ = _post(chat, client.token, {"message_id": message_id})
    assert (status, body["error"]["code"]) == (409, "speech_off")
    _cohort(chat, tts_enabled=True, daily_tts_chars=10)
    with chat.app.app_context():  # 20 characters spoken today already
        reply = Message(conversation_id="RID001-old", role="assistant", content="x" * 20, status="complete")
        db.session.add(reply)
        db.session.flush()
        db.session.add(TurnMetrics(message_id=reply.id, response_chars=20, tts_ms=5.0))
        db.session.commit()
        db.session.remove()
    status, body, headers = _post(chat, client.token, {"message_id": message_id})
    assert (status, body["error"]["code"]) == (429, "quota_reached") and int(headers["Retry-After"]) >= 1
    _cohort(chat, daily_tts_chars=0)
    chat.eleven.configure(fault="http_500")
    status, body, _ = _post(chat, client.token, {"message_id": message_id})
    assert (status, body["error"]["code"]) == (503, "speech_unavailable")


def test_ids_no_row_can_have_are_not_found_not_a_crash(chat):
    client = chat.connect()
    for message_id in (0, -1, 2**31, 2**40, 2**63, 2**70):
        status, body, _ = _post(chat, client.token, {"message_id": message_id})
        assert (status, body["error"]["code"]) == (404, "message_not_found"), message_id
    for checkin_id in (2**31, 2**63, 2**70):
        client.send({"type": "checkin", "conversation_id": "conv-1", "checkin_id": checkin_id, "token": client.token})
        assert client.recv()["code"] == "bad_request"
