"""Many conversations asking their first question at the same instant: time to first audio.

Every socket is opened (and, behind nginx, balanced) first; then all send a question at once and
each measures question sent → first ``audio`` frame received, then reads its turn to the end.
Run by bench.scale as a separate process; prints JSON.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import uuid

from websockets.asyncio.client import connect


async def conversation(url, token, ready: asyncio.Barrier, out: list, counters: dict):
    waited = False
    try:
        async with connect(url, compression=None, max_size=None, ping_interval=None, open_timeout=60) as ws:
            await ready.wait()
            waited = True
            started = time.monotonic()
            await ws.send(json.dumps({"token": token, "conversation_id": "burst-" + uuid.uuid4().hex[:12],
                                      "message": "What is P.A.D.?"}))
            first_audio = None
            while True:
                raw = await ws.recv()
                if first_audio is None and raw.startswith('{"type":"audio"'):
                    first_audio = time.monotonic() - started
                    continue
                if raw.startswith('{"type":"chunk"') or raw.startswith('{"type":"audio"'):
                    continue
                kind = json.loads(raw)["type"]
                if kind in ("audio_end", "audio_error"):
                    break
                if kind == "error":
                    counters["errors"] += 1
            out.append(first_audio)
    except Exception as err:
        counters["failures"] += 1
        counters.setdefault("failure_kinds", []).append(type(err).__name__)
        if not waited:  # the others would wait for this one for ever
            await ready.abort()


async def run(args) -> dict:
    tokens = open(args.tokens).read().split()[:args.concurrency]
    ready = asyncio.Barrier(args.concurrency)
    out: list = []
    counters = {"errors": 0, "failures": 0}
    await asyncio.wait_for(asyncio.gather(*(conversation(args.url, token, ready, out, counters) for token in tokens)),
                           timeout=args.timeout)
    return {"first_audio_s": out, "counters": counters}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--tokens", required=True, help="file with one token per line")
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--timeout", type=float, default=180)
    json.dump(asyncio.run(run(parser.parse_args())), sys.stdout)


if __name__ == "__main__":
    main()
