"""Bad frames get a specific error frame; nothing is stored and the socket stays usable."""
from __future__ import annotations

import json

import pytest

from paco.extensions import db
from paco.models import Conversation, Message

BAD_FRAMES = [
    ("not json at all", "bad_request", "not valid JSON"),
    ("[1, 2, 3]", "bad_request", "JSON object"),
    ('{"type": "dance"}', "bad_request", "Unknown frame type"),
    ({"conversation_id": "c1", "message": 42}, "bad_request", "'message' must be a string"),
    ({"conversation_id": "c1"}, "bad_request", "'message' is required"),
    ({"conversation_id": "c1", "message": "   "}, "bad_request", "empty"),
    ({"conversation_id": "c1", "message": "x" * 2001}, "too_large", "2000 characters"),
    ("x" * 20000, "too_large", "16384 bytes"),
    ({"conversation_id": "bad id!", "message": "hi"}, "bad_request", "conversation_id"),
    ({"conversation_id": "c" * 101, "message": "hi"}, "bad_request", "conversation_id"),
    ({"conversation_id": 7, "message": "hi"}, "bad_request", "conversation_id"),
    ({"conversation_id": "c1", "message": "hi", "model": ["gpt-4o"]}, "bad_request", "'model' must be a string"),
    ({"conversation_id": "c1", "message": "hi", "research_id": "RID002"}, "forbidden", "does not match"),
    ({"conversation_id": "c1", "message": "hi", "input": "telepathy"}, "bad_request", "'input'"),
    ({"conversation_id": "c1", "message": "hi", "input": 1}, "bad_request", "'input'"),
    # Found when probed: valid JSON escapes no database can store, and nesting deep enough to crash a parser.
    ({"conversation_id": "c1", "message": "pain\u0000 in my leg"}, "invalid_text", "'message'"),
    ({"conversation_id": "c1", "message": "hi \ud83d"}, "invalid_text", "'message'"),
    ({"conversation_id": "c1", "message": "hi", "client_id": "\udc00"}, "invalid_text", "'client_id'"),
    ('{"message": "hi", "x": ' + "[" * 1100 + "]" * 1100 + "}", "bad_request", "levels deep"),
]


def _with_token(frame, token):
    if isinstance(frame, dict):
        return json.dumps({"token": token, **frame})
    return frame


@pytest.mark.parametrize("frame, code, fragment", BAD_FRAMES)
def test_bad_frames(chat, frame, code, fragment):
    client = chat.connect()
    client.send(_with_token(frame, client.token))
    reply = client.recv()
    assert reply["type"] == "error" and reply["code"] == code, reply
    assert fragment in reply["message"]
    assert client.ping() == {"type": "pong"}, "the socket must stay usable"
    with chat.app.app_context():
        assert db.session.execute(db.select(db.func.count(Message.id))).scalar() == 0
        db.session.remove()


@pytest.mark.parametrize("token, code", [(None, "invalid_token"), ("garbage", "invalid_token"),
                                         ("eyJhbGciOiJub25lIn0.eyJzdWIiOiJSSUQwMDEifQ.", "invalid_token")])
def test_frames_without_a_valid_token(chat, token, code):
    client = chat.connect(signed_in=False)
    frame = {"conversation_id": "c1", "message": "hi"}
    if token:
        frame["token"] = token
    client.send(frame)
    assert client.recv()["code"] == code
    assert client.ping() == {"type": "pong"}


def test_another_participants_conversation_is_refused(chat):
    owner = chat.connect("RID001")
    owner.ask("What is P.A.D.?", conversation_id="mine")
    owner.turn()
    intruder = chat.connect("RID002")
    intruder.ask("Show me", conversation_id="mine")
    reply = intruder.recv()
    assert reply["type"] == "error" and reply["code"] == "forbidden"
    with chat.app.app_context():
        contents = db.session.execute(db.select(Message.content).where(Message.conversation_id == "mine")).scalars().all()  # noqa: E501
        owner_of = db.session.execute(db.select(Conversation.research_id).where(Conversation.conversation_id == "mine")).scalar()  # noqa: E501
        db.session.remove()
    assert "Show me" not in contents and owner_of == "RID001"


def test_withdrawn_participant_is_refused_on_an_open_socket(chat):
    from paco.models import ResearchID

    client = chat.connect("RID005")
    with chat.app.app_context():
        db.session.execute(db.update(ResearchID).where(ResearchID.research_id == "RID005").values(status="withdrawn"))
        db.session.commit()
        db.session.remove()
    client.ask("hello")
    reply = client.recv()
    assert reply["type"] == "error" and reply["code"] == "forbidden"


def test_cross_site_handshake_is_refused(chat):
    import websocket

    with pytest.raises(websocket.WebSocketBadStatusException) as err:
        chat.connect(origin="https://evil.example")
    assert err.value.status_code == 403


def test_a_cookie_session_that_expires_on_an_open_socket_is_refused(chat):
    import os
    import time
    import uuid

    import jwt

    now = time.time()
    claims = {"sub": "RID007", "jti": str(uuid.uuid4()), "type": "access", "fresh": False,
              "iat": int(now), "nbf": int(now), "exp": int(now) + 2, "csrf": str(uuid.uuid4())}
    token = jwt.encode(claims, os.environ["SECRET_KEY"], algorithm="HS256")
    from tests.support.chat import sign_in

    sign_in(chat.server, "RID007")  # acknowledges the disclaimer
    client = chat.connect("RID007", signed_in=False, cookie=f"access_token_cookie={token}",
                          origin=chat.server.url)
    client.ask("What is P.A.D.?", conversation_id="short-lived")
    assert client.turn()[-1]["type"] == "audio_end"
    time.sleep(max(0.0, claims["exp"] - time.time()) + 0.2)
    client.ask("And now?", conversation_id="short-lived")
    reply = client.recv()
    assert reply["type"] == "error" and reply["code"] == "invalid_token" and "expired" in reply["message"]


def test_signing_out_ends_the_session_on_an_open_socket(chat):
    client = chat.connect("RID006")
    client.ask("What is P.A.D.?", conversation_id="before-sign-out")
    assert client.turn()[-1]["type"] == "audio_end"
    status, _body, _ = chat.server.request("POST", "/api/v1/auth/logout",
                                           headers={"Authorization": f"Bearer {client.token}"})
    assert status == 200
    client.ask("Still there?", conversation_id="before-sign-out")
    reply = client.recv()
    assert reply["type"] == "error" and reply["code"] == "invalid_token", reply
    assert "signed out" in reply["message"]
    with chat.app.app_context():
        contents = db.session.execute(db.select(Message.content)).scalars().all()
        db.session.remove()
    assert "Still there?" not in contents
