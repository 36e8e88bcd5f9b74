"""After "some" or "none" with a reason, PaCo's next message is the matching guidance: asked for with
a ``checkin`` frame, streamed, spoken and stored like any answer (on SQLite and PostgreSQL)."""
from __future__ import annotations

import pytest

from paco.assistant.barriers import default_guidance
from paco.extensions import db
from paco.models import Checkin, Message
from tests.support.chat import types

from .test_ws_turns import stored

# What each barrier's guidance must say (issue 15).
KEY_POINTS = {
    "forgot": ["something you do every day", "pill organizer", "alarm on your phone"],
    "side_effects": ["don't stop a medicine on your own", "Write down what you notice", "doctor, nurse, or pharmacist"],
    "cost": ["Extra Help", "Ask your pharmacist", "programs"],
    "ran_out": ["refill sync", "call your pharmacy"],
    "on_purpose": ["talk to your care team before you stop"],
    "other": ["care team"],
}


def answer(chat, token, taken="some", reason="forgot", **extra) -> dict:
    status, body, _ = chat.server.request("POST", "/api/v1/adherence/checkin",
                                          {"taken": taken, **({"reason": reason} if reason else {}), **extra},
                                          {"Authorization": f"Bearer {token}"})
    assert status in (200, 201), body
    return body["checkin"]


def test_paco_answers_the_barrier_as_a_spoken_stored_turn(chat):
    client = chat.connect()
    checkin = answer(chat, client.token, "some", "forgot")
    assert checkin["reply_available"] is True
    client.send({"type": "checkin", "token": client.token, "research_id": "RID001", "conversation_id": "conv-1",
                 "checkin_id": checkin["id"], "client_id": "card-1"})
    frames = client.turn()
    assert types(frames)[0] == "saved" and frames[0]["client_id"] == "card-1"
    assert types(frames)[-2:] == ["complete", "audio_end"] or types(frames)[-3:] == ["complete", "audio", "audio_end"]
    guidance = default_guidance()["forgot"]
    complete = next(f for f in frames if f["type"] == "complete")
    chunks = "".join(f["content"] for f in frames if f["type"] == "chunk")
    assert chunks == complete["full_response"] == guidance.answer and complete["status"] == "complete"
    assert len([f for f in frames if f["type"] == "chunk"]) > 10, "streamed word by word"
    audio = [f for f in frames if f["type"] == "audio"]
    assert len(audio) >= 5 and frames[-1] == {"type": "audio_end", "count": len(audio)}
    assert " ".join(f["text"] for f in audio) == guidance.answer
    for point in KEY_POINTS["forgot"]:
        assert point in guidance.answer

    rows, metrics = stored(chat.app)
    said, reply = rows
    assert (said.role, said.input, said.topic, said.id) == ("user", "checkin", None, frames[0]["message_id"])
    assert said.content == checkin["message"] == (
        "Check-in: I took some of my P.A.D. medicines today. What got in the way: I forgot.")
    assert (reply.role, reply.content, reply.provider, reply.model, reply.id) == (
        "assistant", guidance.answer, "checkin", guidance.model, complete["message_id"])
    assert metrics[0].message_id == reply.id and metrics[0].sentences == len(audio)
    assert chat.openai.requests() == []  # reviewed text: no model was asked
    with chat.app.app_context():
        assert db.session.get(Checkin, checkin["id"]).reply_message_id == reply.id
        db.session.remove()

    # The exchange is part of the conversation: the next question's context carries it.
    client.ask("How do I set an alarm?")
    client.turn()
    sent = chat.openai.requests()[0]["json"]["messages"]
    assert {"role": "user", "content": said.content} in sent
    assert {"role": "assistant", "content": guidance.answer} in sent


@pytest.mark.parametrize("taken, reason", [("none", "side_effects"), ("some", "cost"), ("none", "ran_out"),
                                           ("none", "on_purpose"), ("some", "other")])
def test_each_barrier_gets_its_own_guidance(chat, taken, reason):
    client = chat.connect()
    checkin = answer(chat, client.token, taken, reason)
    client.send({"type": "checkin", "conversation_id": "conv-1", "checkin_id": checkin["id"], "token": client.token})
    complete = next(f for f in client.turn() if f["type"] == "complete")
    assert complete["full_response"] == default_guidance()[reason].answer
    for point in KEY_POINTS[reason]:
        assert point in complete["full_response"], (reason, point)


def test_a_check_in_is_answered_once_and_only_its_owners(chat):
    client = chat.connect()
    named = answer(chat, client.token, "none", "cost")
    client.send({"type": "checkin", "conversation_id": "conv-1", "checkin_id": named["id"], "token": client.token})
    client.turn()
    refusals = []
    other = chat.connect("RID002")
    cases = [(client, named["id"], "checkin_already_answered"),
             (client, answer(chat, client.token, "some", None)["id"], "checkin_without_reason"),
             (client, 999_999, "checkin_not_found"),
             (other, named["id"], "checkin_not_found")]
    for who, checkin_id, code in cases:
        who.send({"type": "checkin", "conversation_id": "conv-2", "checkin_id": checkin_id, "token": who.token,
                  "client_id": "c"})
        frame = who.recv()
        refusals.append((frame["type"], frame["code"], frame["client_id"]))
        assert code == frame["code"]
    assert all(kind == "error" for kind, _, _ in refusals)
    for bad in ("7", 1.5, True, None, -1):
        client.send({"type": "checkin", "conversation_id": "conv-1", "checkin_id": bad, "token": client.token})
        assert client.recv()["code"] == "bad_request"
    with chat.app.app_context():  # nothing was stored for the refusals
        assert db.session.query(Message).filter_by(conversation_id="conv-2").count() == 0
        db.session.remove()


def test_words_that_trip_the_safety_screen_get_the_safety_reply(chat):
    client = chat.connect()
    checkin = answer(chat, client.token, "none", "other", note="I have crushing chest pain right now")
    client.send({"type": "checkin", "conversation_id": "conv-1", "checkin_id": checkin["id"], "token": client.token})
    complete = next(f for f in client.turn() if f["type"] == "complete")
    assert complete["safety"]["category"] == "emergency" and "911" in complete["full_response"]
    rows, _ = stored(chat.app)
    assert rows[0].safety_category == "emergency" and rows[0].content.endswith("crushing chest pain right now")
    assert rows[1].provider == "safety"
