"""Several PaCo instances on one PostgreSQL database and one Redis (docs/deploy.md), as a load
balancer without sticky sessions would use them: any instance serves any request or socket.

Instances A (one worker), B (two workers) and, later, a freshly started C run side by side on
127.0.0.1. Shown here: a token from A works on B; one rate limit and one socket cap hold across
instances; a pause made elsewhere closes the participant's socket on B; a sign-out on B is refused
by C; and A killed (SIGKILL, worker and master: a lost machine) mid-reply loses nothing: another
instance closes the turn within 60 s (lease and sweep at their defaults) with the text A had
stored, history stays in order, and the conversation carries on on B.
"""
from __future__ import annotations

import os
import signal
import time
import uuid
from types import SimpleNamespace

import pytest

from tests.support.chat import ChatClient, drain, sign_in
from tests.support.databases import create_database, drop_database, postgres_admin_url
from tests.support.server import LiveServer

from .conftest import server_env

pytestmark = pytest.mark.server
LONG_REPLY = "Taking your statin every day keeps the narrowing from growing. " * 40


@pytest.fixture(scope="module")
def cluster(standins, tmp_path_factory):
    redis_url = os.environ.get("TEST_REDIS_URL")
    if not (postgres_admin_url() and redis_url):
        pytest.skip("TEST_DATABASE_URL (PostgreSQL) and TEST_REDIS_URL are needed for several instances")
    import redis

    tmp = tmp_path_factory.mktemp("instances")
    database_url = create_database("postgresql", str(tmp))
    prefix = f"paco-test-{uuid.uuid4().hex[:8]}"
    _prepare(database_url)
    env = {**server_env(standins, tmp, PACO_TTS_PROVIDER="none"),
           "DATABASE_URL": database_url, "REDIS_URL": redis_url, "PACO_REDIS_PREFIX": prefix,
           "PACO_AUDIO_CACHE_DIR": str(tmp / "shared-audio"),  # the directory every instance mounts
           "PACO_RATE_LIMIT_CHAT": "3 per minute", "PACO_MAX_SOCKETS_PER_PARTICIPANT": "2",
           # Lease and sweep at their defaults (they decide the 60 s); a quicker heartbeat only makes
           # sure some of the answer was copied before the kill.
           "PACO_TURN_HEARTBEAT_SECONDS": "1"}

    def instance(name: str, workers: int = 1) -> LiveServer:
        return LiveServer(env, workers=workers, log_path=str(tmp / f"{name}.log"))

    a, b = instance("a").launch(), instance("b", workers=2).launch()
    started = [a, b]
    try:
        a.wait(), b.wait()
        yield SimpleNamespace(a=a, b=b, instance=instance, started=started, database_url=database_url,
                              redis_url=redis_url, prefix=prefix, openai=standins.openai)
    finally:
        for server in started:
            server.stop()
        client = redis.Redis.from_url(redis_url)
        for key in client.scan_iter(f"*{prefix}*"):
            client.delete(key)
        drop_database(database_url)


def _prepare(database_url: str) -> None:
    """Migrate (a release step, run once) and load the demo IDs, as an operator would."""
    from flask_migrate import upgrade

    from paco import create_app
    from paco.extensions import db
    from paco.services.demo import load_demo

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "TESTING": True})
    with app.app_context():
        upgrade()
        load_demo()
        db.session.remove()
        db.engine.dispose()




def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def history(server: LiveServer, token: str, research_id: str, conversation_id: str) -> list[dict]:
    status, body, _ = server.request("POST", "/api/v1/chat/history",
                                     {"research_id": research_id, "conversation_id": conversation_id},
                                     headers=bearer(token))
    assert status == 200, body
    return body["messages"]


def test_a_token_from_one_instance_is_served_by_another(cluster):
    cluster.openai.configure(reply="Short and clear.", tokens_per_s=0)
    token = sign_in(cluster.a, "RID002")
    status, body, _ = cluster.b.request("GET", "/api/v1/auth/session", headers=bearer(token))
    assert (status, body) == (200, {"research_id": "RID002", "authenticated": True})
    on_b = ChatClient(cluster.b, token, "RID002")
    on_b.ask("What is a statin?", conversation_id="scale-token")
    assert [f["status"] for f in on_b.turn() if f["type"] == "complete"] == ["complete"]
    on_b.close()
    assert [m["role"] for m in history(cluster.a, token, "RID002", "scale-token")] == ["user", "assistant"]


def test_one_rate_limit_and_one_socket_cap_hold_across_instances(cluster):
    cluster.openai.configure(reply="Short and clear.", tokens_per_s=0)
    token = sign_in(cluster.a, "RID003")
    on_a, on_b = ChatClient(cluster.a, token, "RID003"), ChatClient(cluster.b, token, "RID003")
    for client in (on_a, on_b, on_a):  # 3 per minute for this research ID, wherever they arrive
        client.ask("Hello?", conversation_id="scale-rate")
        assert client.turn()[-1]["type"] == "audio_end"
    on_b.ask("Hello again?", conversation_id="scale-rate")
    refused = on_b.recv()
    assert refused["code"] == "rate_limited" and refused["retry_after"] > 0
    # A socket cap of 2 per research ID, across instances: a third window (its cookie names the
    # participant at the handshake) is one too many.
    third = ChatClient(cluster.b, None, "RID003", cookie=f"access_token_cookie={token}", origin=cluster.b.url)
    code, frames = third.closed_with()
    assert code == 4029 and frames[-1]["code"] == "too_many_connections"
    on_a.close(), on_b.close()


def test_a_pause_made_elsewhere_closes_the_participants_socket_on_every_instance(cluster):
    from paco import create_app
    from paco.extensions import db
    from paco.services import enrolment

    token = sign_in(cluster.b, "RID004")
    on_b = ChatClient(cluster.b, token, "RID004")
    on_b.ask("Hello?", conversation_id="scale-pause")
    on_b.turn()
    # A data manager's `flask ids set-status` on another machine: same database, same Redis.
    elsewhere = create_app({"SQLALCHEMY_DATABASE_URI": cluster.database_url, "REDIS_URL": cluster.redis_url,
                            "PACO_REDIS_PREFIX": cluster.prefix, "TESTING": True})
    with elsewhere.app_context():
        enrolment.set_status(["RID004"], "pause", "test", None)
        db.session.remove()
        db.engine.dispose()
    code, frames = on_b.closed_with(timeout=5)
    assert code == 4001 and frames[-1]["code"] == "invalid_token"


def test_a_killed_instance_loses_nothing_and_a_sign_out_holds_on_a_fresh_instance(cluster):
    # A participant is mid-reply on A.
    cluster.openai.configure(reply=LONG_REPLY, tokens_per_s=20)
    token = sign_in(cluster.a, "RID001")
    on_a = ChatClient(cluster.a, token, "RID001")
    on_a.ask("Why take a statin every day?", conversation_id="scale-kill")
    assert on_a.recv()["type"] == "user_message_saved"
    streamed, deadline = [], time.monotonic() + 2.5
    while time.monotonic() < deadline:
        frame = on_a.recv()
        if frame["type"] == "chunk":
            streamed.append(frame["content"])
    _kill(cluster.a)
    killed = time.monotonic()
    streamed = "".join(streamed + drain(on_a))

    # Meanwhile: another participant signs out on B, and a freshly started C refuses that token.
    leaving = sign_in(cluster.b, "RID005")
    status, body, _ = cluster.b.request("POST", "/api/v1/auth/logout", headers=bearer(leaving))
    assert (status, body) == (200, {"signed_out": True})
    c = cluster.instance("c")
    cluster.started.append(c)
    c.start()
    status, body, _ = c.request("GET", "/api/v1/auth/session", headers=bearer(leaving))
    assert status == 401 and body["error"]["code"] == "token_revoked"
    on_c = ChatClient(c, leaving, "RID005")
    on_c.ask("Am I still signed in?", conversation_id="scale-signed-out")
    assert on_c.recv()["code"] == "invalid_token"
    on_c.close()

    # A's question is answered (marked) by another instance within 60 s, right after it.
    while len(messages := history(c, token, "RID001", "scale-kill")) < 2:
        assert time.monotonic() - killed < 60, "the killed instance's turn was not closed within 60 s"
        time.sleep(0.5)
    closed_after = time.monotonic() - killed
    question, answer = messages
    assert (question["role"], question["content"]) == ("user", "Why take a statin every day?")
    assert (answer["role"], answer["status"]) == ("assistant", "interrupted")
    assert answer["content"] and streamed.startswith(answer["content"])

    # The page reconnects, to B, and carries on in the same conversation.
    cluster.openai.configure(reply="Yes, even on days you feel well.", tokens_per_s=0)
    on_b = ChatClient(cluster.b, token, "RID001")
    on_b.ask("Even when I feel fine?", conversation_id="scale-kill")
    assert [f["status"] for f in on_b.turn() if f["type"] == "complete"] == ["complete"]
    on_b.close()
    assert [(m["role"], m["status"]) for m in history(cluster.b, token, "RID001", "scale-kill")] == [
        ("user", "complete"), ("assistant", "interrupted"), ("user", "complete"), ("assistant", "complete")]
    print(f"orphaned turn closed {closed_after:.1f} s after the kill")


def _kill(server: LiveServer) -> None:
    """SIGKILL the workers, then the master at once: nothing runs on the way out (a lost machine)."""
    for pid in server.worker_pids():
        os.kill(pid, signal.SIGKILL)
    server.proc.send_signal(signal.SIGKILL)
    server.proc.wait(timeout=10)
