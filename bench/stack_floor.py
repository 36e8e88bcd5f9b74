"""The stack's floor: the same load against bench.floor_app (relay only, no PaCo work), so the
chunk-latency figures can be read against what the fixed stack costs on this machine."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.standins.base import StandInProcess, free_port, stop_process, wait_for_port

from .chunk_latency import WS_PATH, _cpu_seconds
from .harness import BENCH_REPLY, LLM_FIRST_TOKEN_MS, LLM_TOKENS_PER_S, SERVER_CORE, _other_cores
from .stats import percentile

ROOT = Path(__file__).resolve().parents[1]


def run(levels=(1, 100), duration: float = 20, warmup: float = 5) -> list[dict]:
    rows = []
    others = _other_cores()
    if others:
        os.sched_setaffinity(0, others)
    workdir = Path(tempfile.mkdtemp(prefix="paco-floor-"))
    tokens = workdir / "tokens.txt"
    tokens.write_text("\n".join(["unused"] * max(levels)))
    with StandInProcess("tests.standins.openai_server", {
            "first_token_ms": LLM_FIRST_TOKEN_MS, "tokens_per_s": LLM_TOKENS_PER_S, "reply": BENCH_REPLY,
            "stamp": True}) as llm:
        for http in ("httpx2", "paco"):
            port = free_port()
            env = {**os.environ, "OPENAI_BASE_URL": llm.url + "/v1", "FLOOR_HTTP": http, "WEB_CONCURRENCY": "1"}
            gunicorn = str(Path(sys.executable).with_name("gunicorn"))
            with open(workdir / f"floor-{http}.log", "ab") as log:
                server = subprocess.Popen([gunicorn, "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}",
                                           "bench.floor_app:app"], cwd=ROOT, env=env, stdout=log, stderr=log)
            try:
                wait_for_port(port, timeout=30, proc=server)
                workers = subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True, text=True).stdout
                if others:
                    for worker in workers.split():
                        os.sched_setaffinity(int(worker), {SERVER_CORE})
                for level in levels:
                    cpu_before = _cpu_seconds(server.pid)
                    out = subprocess.run(
                        [sys.executable, "-m", "bench.load_client", "--url", f"ws://127.0.0.1:{port}{WS_PATH}",
                         "--tokens", str(tokens), "--concurrency", str(level), "--duration", str(duration),
                         "--warmup", str(warmup)], capture_output=True, text=True, check=True, cwd=ROOT)
                    data = json.loads(out.stdout)
                    ms = [v * 1000 for v in data["latencies"]]
                    rows.append({"http": "httpx2 (SDK default)" if http == "httpx2" else "PaCo's transport",
                                 "conversations": level, "chunks": len(ms),
                                 "p50_ms": round(percentile(ms, 50), 2), "p99_ms": round(percentile(ms, 99), 2),
                                 "turns": data["counters"]["turns"],
                                 "failures": data["counters"]["failures"] + data["counters"].get("unfinished", 0),
                                 "server_cpu_pct": round(100 * (_cpu_seconds(server.pid) - cpu_before)
                                                         / data["wall_s"], 1)})
                    print(json.dumps(rows[-1]), flush=True)
            finally:
                stop_process(server)
    return rows
