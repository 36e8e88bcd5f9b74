"""Many concurrent conversations in one asyncio process, measuring per-chunk latency.

The stand-in stamps each delta with its emission time (time.monotonic(), system-wide on Linux);
this client subtracts it from the time the chunk frame arrives: the latency PaCo adds between
the LLM and the participant. asyncio + `websockets` reads frames from a buffer (a pure-Python
client making several recv() calls per frame used more CPU than the server it measured).
Run by bench.chunk_latency as a separate process.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import sys
import time
import uuid

from websockets.asyncio.client import connect

from tests.standins.stamps import stamps


async def conversation(url, token, stop_at, measure_from, latencies, counters, stagger):
    # Starts spread over one turn's length: started within a second, a hundred conversations
    # asked in waves, every turn's set-up at once, which people do not do.
    await asyncio.sleep(random.random() * stagger)
    conversation_id = "load-" + uuid.uuid4().hex[:12]
    try:
        async with connect(url, compression=None, max_size=None, ping_interval=None) as ws:
            while time.monotonic() < stop_at:
                await ws.send(json.dumps({"token": token, "conversation_id": conversation_id,
                                          "message": "What is P.A.D.?"}))
                while True:
                    raw = await ws.recv()
                    now = time.monotonic()
                    if raw.startswith('{"type":"chunk"'):
                        if now >= measure_from:
                            latencies.extend(now - s for s in stamps(raw))
                        continue
                    kind = json.loads(raw)["type"]
                    if kind in ("audio_end", "audio_error"):
                        counters["turns"] += 1
                        break
                    if kind == "error":
                        counters["errors"] += 1
    except Exception as err:  # a dropped connection is a result to report, not a crash
        counters["failures"] += 1
        kinds = counters.setdefault("failure_kinds", {})
        kinds[type(err).__name__] = kinds.get(type(err).__name__, 0) + 1


async def run(args) -> dict:
    tokens = open(args.tokens).read().split()
    latencies: list[float] = []
    counters = {"turns": 0, "errors": 0, "failures": 0}
    start = time.monotonic()
    measure_from, stop_at = start + args.warmup, start + args.warmup + args.duration
    # Several URLs (instances without a balancer in front): conversations are dealt out in turn.
    tasks = [asyncio.create_task(conversation(args.url[i % len(args.url)], tokens[(args.skip + i) % len(tokens)],
                                              stop_at, measure_from, latencies, counters,
                                              min(args.stagger, args.warmup)))
             for i in range(args.concurrency)]
    # An overloaded server can take minutes to finish the turns in flight: stop waiting after a
    # grace period and count what never finished.
    done, pending = await asyncio.wait(tasks, timeout=stop_at - time.monotonic() + args.grace)
    for task in pending:
        task.cancel()
    counters["unfinished"] = len(pending)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"latencies": latencies, "counters": counters, "client_cpu_s": usage.ru_utime + usage.ru_stime,
            "wall_s": time.monotonic() - start}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True, action="append", help="once, or once per instance")
    parser.add_argument("--tokens", required=True, help="file with one token per line")
    parser.add_argument("--skip", type=int, default=0, help="tokens used by other client processes")
    parser.add_argument("--concurrency", type=int, required=True)
    parser.add_argument("--warmup", type=float, default=5)
    parser.add_argument("--duration", type=float, default=20)
    parser.add_argument("--grace", type=float, default=30)
    parser.add_argument("--stagger", type=float, default=5, help="seconds over which conversations start")
    json.dump(asyncio.run(run(parser.parse_args())), sys.stdout)


if __name__ == "__main__":
    main()
