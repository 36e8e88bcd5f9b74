"""Bursts and soaks against one PaCo worker (``make serve``'s configuration) and the stand-ins.

``burst``: time to first text and first audio for one conversation alone, then for 100
conversations that all start in the same second, beside the floor (first token + first sentence
+ TTS first byte) measured on the same stand-ins.

``start_cpu``: the worker's CPU per turn start, 100 starting at once while nothing streams yet.

``soak``: 1,000 idle sockets plus 100 conversations streaming turn after turn for a while: sockets
dropped, messages sent by the clients vs acknowledged by PaCo (``user_message_saved``) vs stored,
and the worker's memory per idle socket.
"""
from __future__ import annotations

import json
import time

import gevent
import sqlalchemy as sa
import websocket

from .first_audio import WS_PATH, floor_seconds
from .harness import BENCH_REPLY, BenchWorld, child_pids, cpu_seconds
from .stats import summary


def _rss_mb(pid: int) -> float:
    total = 0
    for proc in [pid] + child_pids(pid):
        with open(f"/proc/{proc}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total / 1024


def _connect(world: BenchWorld):
    # websocket-client checks UTF-8 in pure Python unless told not to: ~40 ms per audio frame.
    return websocket.create_connection(world.server.ws_url + WS_PATH, timeout=120, skip_utf8_validation=True)


def _turn(ws, token: str, conversation: str) -> tuple[float | None, float | None, bool]:
    """One question: (first text s, first audio s, acknowledged)."""
    started = time.monotonic()
    ws.send(json.dumps({"token": token, "conversation_id": conversation, "message": "What is P.A.D.?"}))
    first_text = first_audio = None
    acknowledged = False
    while True:
        frame = json.loads(ws.recv())
        kind = frame["type"]
        if kind == "user_message_saved":
            acknowledged = True
        elif kind == "chunk" and first_text is None:
            first_text = time.monotonic() - started
        elif kind == "audio" and first_audio is None:
            first_audio = time.monotonic() - started
        if kind in ("audio_end", "audio_error") or (kind == "error" and not acknowledged):
            return first_text, first_audio, acknowledged


def _read_idle(ws, frames: list[str]) -> None:
    """Read until the socket closes (websocket-client answers pings while reading)."""
    try:
        while True:
            raw = ws.recv()
            if not raw:
                frames.append("closed")
                return
            frames.append(json.loads(raw).get("type", "?"))
    except Exception:
        frames.append("closed")


def _ms(values: list[float]) -> dict:
    s = summary([v for v in values if v is not None])
    return {k: (round(v * 1000, 1) if k != "n" else v) for k, v in s.items()}


def burst(size: int = 100, alone: int = 10) -> dict:
    env = {"PACO_MAX_SOCKETS_PER_PARTICIPANT": "0"}
    with BenchWorld(participants=size, server_env=env) as world:
        rid, token = world.tokens[0]
        warm = _connect(world)
        _turn(warm, token, world.conversation_id())  # first-connection costs are not counted
        single = [_turn(warm, token, world.conversation_id()) for _ in range(alone)]
        warm.close()
        sockets = [_connect(world) for _ in range(size)]  # open first: the burst is of turn starts
        results: list = [None] * size
        start_at = time.monotonic() + 0.5

        def one(i):
            gevent.sleep(max(0.0, start_at - time.monotonic()))
            results[i] = _turn(sockets[i], world.tokens[i][1], world.conversation_id())

        gevent.joinall([gevent.spawn(one, i) for i in range(size)])
        for ws in sockets:
            ws.close()
    floor = floor_seconds(BENCH_REPLY.replace("{n}", "12"))
    out = {"size": size, "floor_ms": round(floor * 1000, 1),
           "alone": {"first_text_ms": _ms([r[0] for r in single]), "first_audio_ms": _ms([r[1] for r in single])},
           "burst": {"first_text_ms": _ms([r[0] for r in results]), "first_audio_ms": _ms([r[1] for r in results])}}
    out["first_text_p50_over_alone_ms"] = round(out["burst"]["first_text_ms"]["median"]
                                                - out["alone"]["first_text_ms"]["median"], 1)
    out["first_audio_p50_over_floor_ms"] = round(out["burst"]["first_audio_ms"]["median"] - floor * 1000, 1)
    return out


def start_cpu(size: int = 100) -> dict:
    """The worker's CPU per turn start: ``size`` questions sent at once while the model's first
    token (and the classifier's verdict) takes 3 s, so that nothing streams or speaks while the
    starts are counted; read once every question is stored and its requests have had time to leave."""
    env = {"PACO_MAX_SOCKETS_PER_PARTICIPANT": "0", "PACO_SAFETY_SECOND_OPINION_TIMEOUT": "10"}
    with BenchWorld(participants=size, server_env=env, first_token_ms=3000) as world:
        warm = _connect(world)
        _turn(warm, world.tokens[0][1], world.conversation_id())  # first-connection costs are not counted
        warm.close()
        sockets = [_connect(world) for _ in range(size)]
        gevent.sleep(1)

        def start(i):
            sockets[i].send(json.dumps({"token": world.tokens[i][1], "conversation_id": world.conversation_id(),
                                        "message": "What is P.A.D.?"}))
            while json.loads(sockets[i].recv())["type"] != "user_message_saved":
                pass

        before, started = cpu_seconds(world.server.proc.pid), time.monotonic()
        gevent.joinall([gevent.spawn(start, i) for i in range(size)])
        gevent.sleep(0.3)
        cpu, elapsed = cpu_seconds(world.server.proc.pid) - before, time.monotonic() - started
        for ws in sockets:
            ws.close()
    # Past 3 s the first answers stream and would be counted as starts.
    return {"size": size, "cpu_ms_per_start": round(cpu * 1000 / size, 2), "seconds": round(elapsed, 2),
            "valid": elapsed < 2.9}


def soak(idle: int = 1000, streaming: int = 100, seconds: float = 300) -> dict:
    env = {"PACO_MAX_SOCKETS_PER_PARTICIPANT": "0", "PACO_WORKER_CONNECTIONS": "4000"}
    with BenchWorld(participants=streaming, server_env=env) as world:
        before = _rss_mb(world.server.proc.pid)
        idle_sockets = [_connect(world) for _ in range(idle)]
        # Like a browser, an idle page answers the server's pings (every PACO_WS_PING_SECONDS); a
        # client that never reads would rightly be dropped as dead. Each reader notes what it got.
        idle_frames: list[list[str]] = [[] for _ in idle_sockets]
        readers = [gevent.spawn(_read_idle, ws, idle_frames[i]) for i, ws in enumerate(idle_sockets)]
        gevent.sleep(2)
        with_idle = _rss_mb(world.server.proc.pid)
        counts = {"sent": 0, "acknowledged": 0, "turns": 0, "dropped": 0}
        conversations: list[str] = []
        stop_at = time.monotonic() + seconds

        def talk(i):
            rid, token = world.tokens[i]
            conversation = world.conversation_id()
            conversations.append(conversation)
            try:
                ws = _connect(world)
                while time.monotonic() < stop_at:
                    counts["sent"] += 1
                    _text, _audio, acknowledged = _turn(ws, token, conversation)
                    counts["acknowledged"] += acknowledged
                    counts["turns"] += 1
                ws.close()
            except Exception:
                counts["dropped"] += 1

        gevent.joinall([gevent.spawn(talk, i) for i in range(streaming)])
        for ws in idle_sockets:  # every idle socket must still be open and answering
            try:
                ws.send(json.dumps({"type": "ping"}))
            except Exception:
                pass
        gevent.sleep(3)
        dropped_idle = sum("pong" not in frames for frames in idle_frames)
        for ws in idle_sockets:
            ws.close()
        gevent.killall(readers, block=False)
        engine = sa.create_engine(world.database_url)
        with engine.connect() as conn:
            stored = conn.execute(sa.text(
                "SELECT count(*) FROM messages WHERE role = 'user' AND conversation_id LIKE 'bench-%'")).scalar()
        engine.dispose()
    return {"idle": idle, "streaming": streaming, "seconds": seconds, **counts, "stored": stored,
            "dropped_idle": dropped_idle, "rss_before_mb": round(before, 1), "rss_with_idle_mb": round(with_idle, 1),
            "kb_per_idle_socket": round((with_idle - before) * 1024 / idle, 1)}
