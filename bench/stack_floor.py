"""The stack's floor: the same load against bench.floor_app (relay only, no PaCo work), so the
chunk-latency figures can be read against what the fixed stack costs on this machine."""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

from tests.standins.base import StandInProcess
from tests.support.server import LiveServer

from .chunk_latency import measure
from .harness import BENCH_REPLY, LLM_FIRST_TOKEN_MS, LLM_TOKENS_PER_S, keep_off_server_core, pin_workers

HTTP_LABELS = {"httpx2": "httpx2 (SDK default)", "paco": "urllib3 (PaCo's transport)"}


def run(levels=(1, 100), duration: float = 20, warmup: float = 5) -> list[dict]:
    rows = []
    pinned = keep_off_server_core()
    workdir = Path(tempfile.mkdtemp(prefix="paco-floor-"))
    tokens = workdir / "tokens.txt"
    tokens.write_text("\n".join(["unused"] * max(levels)))  # the floor checks no sign-in
    with StandInProcess("tests.standins.openai_server", {
            "first_token_ms": LLM_FIRST_TOKEN_MS, "tokens_per_s": LLM_TOKENS_PER_S, "reply": BENCH_REPLY,
            "stamp": True}) as llm:
        for http, label in HTTP_LABELS.items():
            server = LiveServer({"OPENAI_BASE_URL": llm.url + "/v1", "FLOOR_HTTP": http},
                                log_path=str(workdir / f"floor-{http}.log"), app="bench.floor_app:app").start()
            try:
                if pinned:
                    pin_workers(server)
                for level in levels:
                    rows.append({"http": label, **measure(server, tokens, level, duration, warmup)})
                    print(json.dumps(rows[-1]), flush=True)
            finally:
                server.stop()
    return rows
