"""Socket policing: caps per address and per participant, sign-ins that end close the socket with
4001, and a stream of malformed frames closes it with 1008."""
from __future__ import annotations

import os
import time
import uuid

import jwt
import pytest

from tests.support.chat import ChatClient, sign_in

from .conftest import start_server


@pytest.fixture(scope="module")
def capped_server(database_url, standins, tmp_path_factory):
    server = start_server(database_url, standins, tmp_path_factory.mktemp("capped-server"),
                          PACO_TTS_PROVIDER="none", PACO_MAX_SOCKETS_PER_IP="4", PACO_MAX_SOCKETS_PER_PARTICIPANT="2")
    yield server
    server.stop()


def test_one_address_gets_a_capped_number_of_sockets(chat, capped_server):
    clients = [ChatClient(capped_server) for _ in range(4)]
    try:
        extra = ChatClient(capped_server)
        code, frames = extra.closed_with()
        assert code == 4029 and frames[-1]["code"] == "too_many_connections"
        assert "Too many chat connections" in frames[-1]["message"]
        clients.pop().close()
        time.sleep(0.3)
        again = ChatClient(capped_server)  # a freed place can be taken again
        assert again.ping() == {"type": "pong"}
        again.close()
    finally:
        for client in clients:
            client.close()


def test_one_participant_gets_a_capped_number_of_sockets(chat, capped_server):
    token = sign_in(capped_server, "RID003")
    first, second, third = (ChatClient(capped_server, token, "RID003") for _ in range(3))
    try:
        for client in (first, second):
            client.ask("hello", conversation_id=f"c-{uuid.uuid4().hex[:6]}")
        first.turn(), second.turn()
        third.ask("hello", conversation_id="c-third")
        code, frames = third.closed_with()
        assert code == 4029 and "too many windows" in frames[-1]["message"]
    finally:
        first.close(), second.close()


def test_a_cookie_session_closes_the_socket_when_it_expires(chat):
    sign_in(chat.server, "RID008")
    now = time.time()
    claims = {"sub": "RID008", "jti": str(uuid.uuid4()), "type": "access", "fresh": False,
              "iat": int(now), "nbf": int(now), "exp": int(now) + 2, "csrf": "x"}
    token = jwt.encode(claims, os.environ["SECRET_KEY"], algorithm="HS256")
    client = chat.connect("RID008", signed_in=False, cookie=f"access_token_cookie={token}", origin=chat.server.url)
    assert client.ping() == {"type": "pong"}
    code, frames = client.closed_with(timeout=claims["exp"] - time.time() + 3)
    closed_at = time.time()
    assert code == 4001 and frames[-1]["code"] == "invalid_token"
    assert closed_at - claims["exp"] < 1.5  # within about a second of expiry


def test_pausing_a_participant_closes_their_sockets_in_this_worker(app, demo):
    """The admin site's pause action (the service it calls) ends the participant's open sockets."""
    from paco.chat.sessions import OpenSockets
    from paco.services import enrolment

    class Socket:
        def __init__(self):
            self.closed_with, self.frames = None, []

        def close(self, code, reason):
            self.closed_with = code

    class Outbox:
        def __init__(self):
            self.frames = []

        def send(self, frame):
            self.frames.append(frame)

    registry = OpenSockets(per_ip=10, per_participant=3)
    mine, theirs = (registry.open(Socket(), Outbox(), "10.0.0.1") for _ in range(2))
    mine.signed_in("RID009", time.time() + 600)
    theirs.signed_in("RID001", time.time() + 600)
    enrolment.set_status(["RID009"], "pause", "test", None)
    assert mine.ws.closed_with == 4001 and mine.outbox.frames[-1]["code"] == "invalid_token"
    assert theirs.ws.closed_with is None
    mine.release()
    assert registry.by_participant.get("RID009") is None and registry.by_ip["10.0.0.1"] == 1


def test_a_stream_of_malformed_frames_closes_the_socket(chat):
    client = chat.connect()
    for _ in range(24):
        client.send("not json")
        assert client.recv()["code"] == "bad_request"
    client.send({"type": "ping"})  # a good frame resets the count
    assert client.recv() == {"type": "pong"}
    for _ in range(24):
        client.send("still not json")
        client.recv()
    client.send("the 25th in a row")
    code, frames = client.closed_with()
    assert code == 1008 and [f["code"] for f in frames[-2:]] == ["bad_request", "too_many_bad_frames"]


def test_a_stopping_server_finishes_the_turn_then_closes_with_1001(chat, database_url, standins, tmp_path):
    import signal

    server = start_server(database_url, standins, tmp_path, PACO_TTS_PROVIDER="none", PACO_GRACEFUL_TIMEOUT="20")
    try:
        chat.openai.configure(reply="One step. Two steps. Three steps. Four steps.", tokens_per_s=6)
        token = sign_in(server, "RID010")
        busy, idle = ChatClient(server, token, "RID010"), ChatClient(server, token, "RID010")
        busy.ask("What is P.A.D.?", conversation_id="restart")
        assert busy.recv()["type"] == "user_message_saved"
        server.proc.send_signal(signal.SIGTERM)  # what a restart or a rolling deploy sends
        code, _ = idle.closed_with(timeout=5)
        assert code == 1001
        code, frames = busy.closed_with(timeout=15)
        assert code == 1001
        complete = next(f for f in frames if f["type"] == "complete")
        assert complete["status"] == "complete" and complete["full_response"].endswith("Four steps.")
        assert frames[-1]["code"] == "going_away"
    finally:
        server.stop()


def test_a_stopping_server_interrupts_a_turn_past_its_grace_and_stores_what_it_had(chat, database_url, standins,
                                                                                  tmp_path):
    """SIGTERM with a turn longer than the grace period (PACO_GRACEFUL_TIMEOUT - 5 s): the answer is
    cut there, stored as interrupted with its text, the socket closed with 1001; a question sent
    while the server stops is not taken (the page sends it again after reconnecting)."""
    import signal

    from paco.extensions import db
    from paco.models import Message, TurnLease

    server = start_server(database_url, standins, tmp_path, PACO_TTS_PROVIDER="none", PACO_GRACEFUL_TIMEOUT="7")
    try:
        chat.openai.configure(reply="Walking helps your legs. " * 40, tokens_per_s=10)
        token = sign_in(server, "RID010")
        client = ChatClient(server, token, "RID010")
        client.ask("Tell me everything about walking.", conversation_id="long-answer")
        assert client.recv()["type"] == "user_message_saved"
        server.proc.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        client.ask("And another thing?", conversation_id="long-answer")
        code, frames = client.closed_with(timeout=15)
        assert code == 1001 and frames[-1]["code"] == "going_away"
        complete = next(f for f in frames if f["type"] == "complete")
        assert complete["status"] == "interrupted"
        assert 0 < len(complete["full_response"]) < len("Walking helps your legs. " * 40)
        assert not any(f["type"] == "user_message_saved" for f in frames)
        server.proc.wait(timeout=10)
    finally:
        server.stop()
    with chat.app.app_context():
        rows = db.session.execute(db.select(Message.role, Message.status, Message.content)
                                  .where(Message.conversation_id == "long-answer").order_by(Message.id)).all()
        assert [(role, status) for role, status, _ in rows] == [("user", "complete"), ("assistant", "interrupted")]
        assert rows[1].content == complete["full_response"]
        assert db.session.execute(db.select(TurnLease)).first() is None
