"""Server-added latency per chunk at increasing numbers of concurrent conversations, one worker."""
from __future__ import annotations

import json
import subprocess
import sys


from .harness import BenchWorld
from .stats import percentile

WS_PATH = "/api/v1/chat/ws/chat"
LEVELS = (1, 25, 50, 100, 200, 300, 500)


def _cpu_seconds(pid: int) -> float:
    """CPU seconds used so far by a process and its children (gunicorn's workers)."""
    total = 0.0
    for child in [pid] + [int(p) for p in subprocess.run(["pgrep", "-P", str(pid)], capture_output=True,
                                                          text=True).stdout.split()]:
        with open(f"/proc/{child}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / 100  # utime + stime, in clock ticks
    return total


def run(levels=LEVELS, duration: float = 20, warmup: float = 5) -> list[dict]:
    rows = []
    with BenchWorld(participants=max(levels), stamp=True) as world:
        tokens_file = world.workdir / "tokens.txt"
        tokens_file.write_text("\n".join(token for _, token in world.tokens))
        for level in levels:
            cpu_before = _cpu_seconds(world.server.proc.pid)
            standins_before = _cpu_seconds(world.openai.proc.pid) + _cpu_seconds(world.eleven.proc.pid)
            out = subprocess.run(
                [sys.executable, "-m", "bench.load_client", "--url", world.server.ws_url + WS_PATH,
                 "--tokens", str(tokens_file), "--concurrency", str(level), "--duration", str(duration),
                 "--warmup", str(warmup)], capture_output=True, text=True, check=True)
            server_cpu = _cpu_seconds(world.server.proc.pid) - cpu_before
            standins_cpu = (_cpu_seconds(world.openai.proc.pid) + _cpu_seconds(world.eleven.proc.pid)
                            - standins_before)
            data = json.loads(out.stdout)
            ms = [v * 1000 for v in data["latencies"]]
            rows.append({
                "conversations": level, "database": world.engine, "chunks": len(ms),
                "p50_ms": round(percentile(ms, 50), 2), "p99_ms": round(percentile(ms, 99), 2),
                "max_ms": round(max(ms), 1) if ms else None,
                "turns": data["counters"]["turns"], "errors": data["counters"]["errors"],
                "failures": data["counters"]["failures"],
                "unfinished": data["counters"].get("unfinished", 0),
                "server_cpu_pct": round(100 * server_cpu / data["wall_s"], 1),
                "client_cpu_pct": round(100 * data["client_cpu_s"] / data["wall_s"], 1),
                "standins_cpu_pct": round(100 * standins_cpu / data["wall_s"], 1),
            })
            print(json.dumps(rows[-1]), flush=True)
    return rows


def capacity(rows: list[dict], limit_ms: float = 50.0) -> int:
    """The most concurrent conversations measured with p99 chunk latency under the limit."""
    ok = [r["conversations"] for r in rows
          if r["p99_ms"] < limit_ms and not r["failures"] and not r["unfinished"]]
    return max(ok) if ok else 0
