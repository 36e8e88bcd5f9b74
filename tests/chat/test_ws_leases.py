"""One instance, no Redis: a worker killed mid-reply (SIGKILL: nothing runs on its way out) loses
nothing. gunicorn starts another; the participant's next question in that conversation first closes
the orphaned turn from its lease (the text as of the last heartbeat, marked interrupted), so
history stays in order. (Closing by the periodic sweep, with no new question, is shown with
several instances in test_ws_instances.py and on both databases in test_turn_leases.py.)"""
from __future__ import annotations

import os
import signal
import time

import pytest

from tests.support.chat import ChatClient, drain, sign_in

from .conftest import start_server

LONG_REPLY = "Walking every day helps your legs. " * 60


@pytest.fixture(scope="module")
def lease_server(database_url, standins, tmp_path_factory):
    # A short lease and a sweep far off: the next question, not the sweep, closes the orphan here.
    server = start_server(database_url, standins, tmp_path_factory.mktemp("lease-server"), PACO_TTS_PROVIDER="none",
                          PACO_TURN_LEASE_SECONDS="3", PACO_TURN_HEARTBEAT_SECONDS="0.5",
                          PACO_TURN_SWEEP_SECONDS="40")
    yield server
    server.stop()


def kill_worker(server) -> None:
    [worker] = server.worker_pids()
    os.kill(worker, signal.SIGKILL)




def rows(app, conversation_id: str) -> list[tuple[str, str, str]]:
    from paco.extensions import db
    from paco.models import Message

    with app.app_context():
        found = db.session.execute(db.select(Message.role, Message.status, Message.content)
                                   .where(Message.conversation_id == conversation_id).order_by(Message.id)).all()
        db.session.remove()
    return [tuple(row) for row in found]


def test_a_new_question_after_a_worker_was_killed_closes_its_orphan_first(chat, lease_server):
    chat.openai.configure(reply=LONG_REPLY, tokens_per_s=20)
    token = sign_in(lease_server, "RID005")
    client = ChatClient(lease_server, token, "RID005")
    client.ask("Why should I walk?", conversation_id="carry-on")
    assert client.recv()["type"] == "user_message_saved"
    streamed, deadline = [], time.monotonic() + 1.5
    while time.monotonic() < deadline:
        frame = client.recv()
        if frame["type"] == "chunk":
            streamed.append(frame["content"])
    kill_worker(lease_server)
    streamed += drain(client)
    lease_server._wait_until_serving()  # gunicorn's next worker
    assert [role for role, _, _ in rows(chat.app, "carry-on")] == ["user"]  # still open
    chat.openai.configure(reply="A short answer.", tokens_per_s=0)
    again = ChatClient(lease_server, token, "RID005")
    again.ask("And how far?", conversation_id="carry-on")
    frames = again.turn()
    assert [f["status"] for f in frames if f["type"] == "complete"] == ["complete"]
    history = rows(chat.app, "carry-on")
    assert [(role, status) for role, status, _ in history] == [
        ("user", "complete"), ("assistant", "interrupted"), ("user", "complete"), ("assistant", "complete")]
    kept = history[1][2]
    assert kept and "".join(streamed).startswith(kept)  # as of the last heartbeat: at most what was sent
