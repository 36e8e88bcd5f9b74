"""Server-added latency per chunk at increasing numbers of concurrent conversations, one worker."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support.server import LiveServer

from .harness import BenchWorld, cpu_seconds
from .stats import percentile

WS_PATH = "/api/v1/chat/ws/chat"
LEVELS = (1, 25, 50, 100, 200, 300, 500)


def measure(server: LiveServer, tokens_file: Path, level: int, duration: float, warmup: float,
            also: dict[str, list[int]] | None = None) -> dict:
    """One load level against a running server: latency percentiles, turns, failures, and the
    CPU of the server, the clients and the processes named in ``also``."""
    also = also or {}
    cpu_before = {name: sum(map(cpu_seconds, pids)) for name, pids in also.items()}
    cpu_before["server"] = cpu_seconds(server.proc.pid)
    out = subprocess.run(
        [sys.executable, "-m", "bench.load_client", "--url", server.ws_url + WS_PATH,
         "--tokens", str(tokens_file), "--concurrency", str(level), "--duration", str(duration),
         "--warmup", str(warmup)], capture_output=True, text=True, check=True)
    data = json.loads(out.stdout)
    cpu = {name: sum(map(cpu_seconds, pids)) - cpu_before[name] for name, pids in also.items()}
    cpu["server"] = cpu_seconds(server.proc.pid) - cpu_before["server"]
    ms = [v * 1000 for v in data["latencies"]]
    return {
        "conversations": level, "chunks": len(ms),
        "p50_ms": round(percentile(ms, 50), 2), "p99_ms": round(percentile(ms, 99), 2),
        "max_ms": round(max(ms), 1) if ms else None,
        "turns": data["counters"]["turns"], "errors": data["counters"]["errors"],
        "failures": data["counters"]["failures"], "unfinished": data["counters"].get("unfinished", 0),
        **{f"{name}_cpu_pct": round(100 * seconds / data["wall_s"], 1) for name, seconds in cpu.items()},
        "client_cpu_pct": round(100 * data["client_cpu_s"] / data["wall_s"], 1),
    }


def run(levels=LEVELS, duration: float = 20, warmup: float = 5, classify_ms: int | None = None) -> list[dict]:
    """``classify_ms``: when the safety classifier's stand-in answers (default: 100 ms after the
    answer's first token, whose first deltas are then held until it does; 0: before it)."""
    rows = []
    with BenchWorld(participants=max(levels), stamp=True, classify_ms=classify_ms) as world:
        tokens_file = world.workdir / "tokens.txt"
        tokens_file.write_text("\n".join(token for _, token in world.tokens))
        for level in levels:
            row = measure(world.server, tokens_file, level, duration, warmup,
                          also={"standins": [world.openai.proc.pid, world.eleven.proc.pid]})
            rows.append({"database": world.engine, **row})
            print(json.dumps(rows[-1]), flush=True)
    return rows


def capacity(rows: list[dict], limit_ms: float = 50.0) -> int:
    """The most concurrent conversations measured with p99 chunk latency under the limit."""
    ok = [r["conversations"] for r in rows
          if r["p99_ms"] < limit_ms and not r["failures"] and not r["unfinished"]]
    return max(ok) if ok else 0
