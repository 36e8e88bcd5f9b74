"""Time to first audio: PaCo's sentence pipeline next to the seed's sequential design.

Both run against the same stand-ins (LLM: 400 ms to first token, then 40 tokens/s, ~150-token
replies; TTS: 250 ms to first byte). PaCo is measured end to end by a WebSocket client (question
sent → first `audio` frame received). The seed design is run here with the same SDKs: stream the
whole reply, then synthesise all of it, as the seed server did before sending any audio.
"""
from __future__ import annotations

import json
import time

import gevent
import httpx
import openai
import websocket
from elevenlabs.client import ElevenLabs

from paco.speech.sentences import SentenceSplitter
from tests.standins.openai_server import tokenize

from .harness import BENCH_REPLY, LLM_FIRST_TOKEN_MS, LLM_TOKENS_PER_S, TTS_FIRST_BYTE_MS, BenchWorld
from .stats import summary

WS_PATH = "/api/v1/chat/ws/chat"


def floor_seconds(reply: str) -> float:
    """First token + the rest of the first sentence at the stand-in's pace + TTS first byte."""
    splitter = SentenceSplitter()
    for index, token in enumerate(tokenize(reply)):
        if splitter.feed(token):
            return LLM_FIRST_TOKEN_MS / 1000 + index / LLM_TOKENS_PER_S + TTS_FIRST_BYTE_MS / 1000
    raise ValueError("reply has no complete first sentence before its end")


def paco_turns(world: BenchWorld, rid: str, token: str, turns: int, out: list, delay: float = 0.0) -> None:
    gevent.sleep(delay)
    # websocket-client checks UTF-8 in pure Python unless told not to: ~40 ms per audio frame.
    ws = websocket.create_connection(world.server.ws_url + WS_PATH, timeout=60, skip_utf8_validation=True)
    conversation = world.conversation_id()
    try:
        for _ in range(turns):
            started = time.monotonic()
            ws.send(json.dumps({"token": token, "conversation_id": conversation, "message": "What is P.A.D.?"}))
            first_audio = None
            while True:
                frame = json.loads(ws.recv())
                if frame["type"] == "audio" and first_audio is None:
                    first_audio = time.monotonic() - started
                if frame["type"] in ("audio_end", "audio_error", "error"):
                    break
            out.append(first_audio)
    finally:
        ws.close()


def seed_turns(world: BenchWorld, turns: int, out: list) -> None:
    llm = openai.OpenAI(api_key="sk-bench", base_url=world.openai.url + "/v1", max_retries=0)
    tts = ElevenLabs(api_key="el-bench", base_url=world.eleven.url, httpx_client=httpx.Client(timeout=60))
    for _ in range(turns):
        started = time.monotonic()
        stream = llm.chat.completions.create(model="gpt-4o", stream=True,
                                             messages=[{"role": "user", "content": "What is P.A.D.?"}])
        text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
        audio = b"".join(tts.text_to_speech.stream("9BWtsMINqrJLrRacOk9x", text=text, model_id="eleven_flash_v2_5",
                                                   output_format="mp3_22050_32",
                                                   request_options={"chunk_size": None}))
        assert audio
        out.append(time.monotonic() - started)


def _server_first_audio(database_url: str) -> dict:
    """The same turns as the server measured them (turn_metrics): where the time went."""
    import sqlalchemy as sa

    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT first_token_ms, first_sentence_ms, first_audio_ms FROM turn_metrics "
                                    "WHERE first_audio_ms IS NOT NULL")).all()
    engine.dispose()
    rows = rows[1:]  # the warm-up turn
    first_token, first_sentence, first_audio = (summary([r[i] for r in rows]) for i in range(3))
    return {"first_token_median": round(first_token["median"], 1),
            "first_sentence_median": round(first_sentence["median"], 1),
            "first_audio_median": round(first_audio["median"], 1),
            "first_audio_p95": round(first_audio["p95"], 1)}


def run(turns: int = 60, concurrency: int = 4) -> dict:
    per_client = max(1, turns // concurrency)
    with BenchWorld(participants=concurrency) as world:
        # One warm-up turn so that first-connection costs are not counted.
        paco_turns(world, *world.tokens[0], 1, [])
        paco: list = []
        # Conversations start a fraction of a turn apart, as people do, rather than in lockstep.
        gevent.joinall([gevent.spawn(paco_turns, world, rid, token, per_client, paco, i * 4.5 / concurrency)
                        for i, (rid, token) in enumerate(world.tokens)])
        server_side = _server_first_audio(world.database_url)
        seed: list = []
        gevent.joinall([gevent.spawn(seed_turns, world, per_client, seed) for _ in range(concurrency)])
    missing = sum(v is None for v in paco)
    paco_s, seed_s = summary([v for v in paco if v is not None]), summary(seed)
    floor = floor_seconds(BENCH_REPLY.replace("{n}", "12"))
    result = {
        "turns": len(paco), "concurrency": concurrency, "turns_without_audio": missing,
        "floor_ms": round(floor * 1000, 1),
        "paco_ms": {k: round(v * 1000, 1) if k != "n" else v for k, v in paco_s.items()},
        "seed_ms": {k: round(v * 1000, 1) if k != "n" else v for k, v in seed_s.items()},
    }
    result["server_ms"] = server_side
    result["speedup_median"] = round(seed_s["median"] / paco_s["median"], 2)
    result["above_floor_median_ms"] = round((paco_s["median"] - floor) * 1000, 1)
    result["above_floor_p95_ms"] = round((paco_s["p95"] - floor) * 1000, 1)
    return result
