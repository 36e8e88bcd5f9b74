"""A worker killed mid-reply (SIGKILL: nothing runs on its way out) loses nothing: gunicorn starts
another, which closes the orphaned turn from its lease (the text as of the last heartbeat, marked
interrupted), or a new question in the conversation closes it first; history stays in order."""
from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from tests.support.chat import ChatClient, sign_in

from .conftest import start_server

LONG_REPLY = "Walking every day helps your legs. " * 60


@pytest.fixture(scope="module")
def lease_server(database_url, standins, tmp_path_factory):
    server = start_server(database_url, standins, tmp_path_factory.mktemp("lease-server"), PACO_TTS_PROVIDER="none",
                          PACO_TURN_LEASE_SECONDS="3", PACO_TURN_HEARTBEAT_SECONDS="0.5",
                          PACO_TURN_SWEEP_SECONDS="1")
    yield server
    server.stop()


def kill_worker(server) -> None:
    out = subprocess.run(["pgrep", "-P", str(server.proc.pid)], capture_output=True, text=True).stdout
    [worker] = [int(pid) for pid in out.split()]
    os.kill(worker, signal.SIGKILL)


def stream_for(client: ChatClient, seconds: float) -> str:
    """Read the answer's chunks for a while; returns the text received."""
    text, deadline = [], time.monotonic() + seconds
    while time.monotonic() < deadline:
        frame = client.recv()
        if frame["type"] == "chunk":
            text.append(frame["content"])
    return "".join(text)


def rows(app, conversation_id: str) -> list[tuple[str, str, str]]:
    from paco.extensions import db
    from paco.models import Message

    with app.app_context():
        found = db.session.execute(db.select(Message.role, Message.status, Message.content)
                                   .where(Message.conversation_id == conversation_id).order_by(Message.id)).all()
        db.session.remove()
    return [tuple(row) for row in found]


def test_a_killed_workers_turn_is_closed_as_interrupted_with_its_text(chat, lease_server):
    chat.openai.configure(reply=LONG_REPLY, tokens_per_s=20)
    client = ChatClient(lease_server, sign_in(lease_server, "RID005"), "RID005")
    client.ask("Why should I walk?", conversation_id="killed")
    assert client.recv()["type"] == "user_message_saved"
    streamed = stream_for(client, 1.5)
    kill_worker(lease_server)
    killed = time.monotonic()
    while len(rows(chat.app, "killed")) < 2:
        assert time.monotonic() - killed < 30, "the orphaned turn was not closed"
        time.sleep(0.25)
    [question, answer] = rows(chat.app, "killed")
    assert question == ("user", "complete", "Why should I walk?")
    role, status, text = answer
    assert (role, status) == ("assistant", "interrupted")
    assert text and streamed.startswith(text)  # as of the last heartbeat: at most what was sent


def test_a_new_question_after_a_kill_closes_the_orphan_first(chat, lease_server):
    chat.openai.configure(reply=LONG_REPLY, tokens_per_s=20)
    token = sign_in(lease_server, "RID006")
    client = ChatClient(lease_server, token, "RID006")
    client.ask("First question?", conversation_id="carry-on")
    assert client.recv()["type"] == "user_message_saved"
    stream_for(client, 1.0)
    kill_worker(lease_server)
    lease_server._wait_until_serving()  # gunicorn's next worker
    chat.openai.configure(reply="A short answer.", tokens_per_s=0)
    again = ChatClient(lease_server, token, "RID006")
    again.ask("Second question?", conversation_id="carry-on")
    frames = again.turn()
    assert [f["status"] for f in frames if f["type"] == "complete"] == ["complete"]
    assert [(role, status) for role, status, _ in rows(chat.app, "carry-on")] == [
        ("user", "complete"), ("assistant", "interrupted"), ("user", "complete"), ("assistant", "complete")]
