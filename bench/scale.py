"""Scale-out: one PaCo instance next to two (one core each), behind Debian's nginx, same load.

Both set-ups run as deployed (docs/deploy.md): PostgreSQL and Redis shared, nginx in front with
``least_conn`` (a round-robin client instead when nginx is not installed). For each, the same
stand-in load as ``chunk-latency`` (conversations that ask again as soon as the audio ends, every
one streaming all the time) at rising levels: per-chunk latency p50/p99; then 100 conversations
asking their first question at the same instant: time to first audio p50/p99.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

from tests.standins.base import free_port, stop_process, wait_for_port

from .harness import BenchWorld, cpu_seconds
from .stats import percentile

WS_PATH = "/api/v1/chat/ws/chat"
LEVELS = {1: (50, 100, 150, 200), 2: (100, 200, 300)}
BURST = 100
# Conversations per load-client process: one asyncio process relaying 300+ sockets would itself be
# a bottleneck on this machine.
PER_CLIENT = 150

NGINX_CONF = """
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/nginx-error.log warn;
{user}
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    upstream paco {{
        least_conn;
        {servers}
        keepalive 32;
    }}
    map $http_upgrade $connection_upgrade {{ default upgrade; '' ''; }}
    server {{
        listen 127.0.0.1:{port};
        location = {ws} {{
            proxy_pass http://paco;
            proxy_http_version 1.1;
            proxy_set_header Host $host;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_read_timeout 300s;
            proxy_buffering off;
        }}
        location / {{
            proxy_pass http://paco;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}
    }}
}}
"""


class Balancer:
    """nginx in front of the instances, or (without nginx) the instances' own URLs for a client
    that deals conversations out in turn."""

    def __init__(self, world: BenchWorld):
        self.world = world
        self.proc: subprocess.Popen | None = None
        self.kind = "nginx" if shutil.which("nginx") else "round-robin client"

    def start(self) -> "Balancer":
        if self.kind != "nginx":
            return self
        directory = self.world.workdir / f"nginx-{uuid.uuid4().hex[:6]}"
        directory.mkdir()
        self.port = free_port()
        servers = "\n        ".join(f"server 127.0.0.1:{s.port};" for s in self.world.servers)
        (directory / "nginx.conf").write_text(NGINX_CONF.format(
            dir=directory, port=self.port, servers=servers, ws=WS_PATH,
            user="user root;" if os.geteuid() == 0 else ""))
        self.proc = subprocess.Popen(["nginx", "-p", str(directory), "-c", str(directory / "nginx.conf"),
                                      "-g", "daemon off;"], stderr=subprocess.DEVNULL)
        wait_for_port(self.port, proc=self.proc)
        return self

    def urls(self) -> list[str]:
        if self.kind == "nginx":
            return [f"ws://127.0.0.1:{self.port}{WS_PATH}"]
        return [s.ws_url + WS_PATH for s in self.world.servers]

    def pids(self) -> list[int]:
        return [self.proc.pid] if self.proc else []

    def stop(self) -> None:
        stop_process(self.proc)


def _server_cpu(world: BenchWorld) -> float:
    return sum(cpu_seconds(s.proc.pid) for s in world.servers)


def streaming(world: BenchWorld, balancer: Balancer, tokens_file: Path, level: int, duration: float,
              warmup: float) -> dict:
    """``level`` conversations streaming all the time: latency each chunk adds, server CPU."""
    urls = balancer.urls()
    clients = max(1, -(-level // PER_CLIENT))
    before = _server_cpu(world), sum(map(cpu_seconds, balancer.pids()))
    procs = []
    for n in range(clients):
        share = level // clients + (1 if n < level % clients else 0)
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "bench.load_client", "--tokens", str(tokens_file), "--concurrency", str(share),
             "--duration", str(duration), "--warmup", str(warmup), "--skip", str(n * PER_CLIENT),
             *[arg for url in urls for arg in ("--url", url)]], stdout=subprocess.PIPE, text=True))
    results = [json.loads(p.communicate()[0]) for p in procs]
    wall = max(r["wall_s"] for r in results)
    ms = [v * 1000 for r in results for v in r["latencies"]]
    counters = {k: sum(r["counters"].get(k, 0) for r in results) for k in ("turns", "errors", "failures",
                                                                          "unfinished")}
    return {"conversations": level, "chunks": len(ms), "p50_ms": round(percentile(ms, 50), 2),
            "p99_ms": round(percentile(ms, 99), 2), "max_ms": round(max(ms), 1) if ms else None, **counters,
            "server_cpu_pct": round(100 * (_server_cpu(world) - before[0]) / wall, 1),
            "nginx_cpu_pct": round(100 * (sum(map(cpu_seconds, balancer.pids())) - before[1]) / wall, 1),
            "client_cpu_pct": round(100 * sum(r["client_cpu_s"] for r in results) / wall, 1)}


def first_audio(balancer: Balancer, tokens_file: Path, count: int) -> dict:
    """``count`` conversations ask at the same instant (spread over the instances as a balancer would)."""
    urls = balancer.urls()
    procs = [subprocess.Popen([sys.executable, "-m", "bench.burst_client", "--url", url, "--tokens",
                               str(tokens_file), "--concurrency", str(count // len(urls))],
                              stdout=subprocess.PIPE, text=True) for url in urls]
    results = [json.loads(p.communicate()[0]) for p in procs]
    seconds = [v for r in results for v in r["first_audio_s"] if v is not None]
    ms = [v * 1000 for v in seconds]
    return {"simultaneous": count, "turns": len(seconds), "p50_ms": round(percentile(ms, 50)),
            "p99_ms": round(percentile(ms, 99)), "max_ms": round(max(ms)) if ms else None,
            "failures": sum(r["counters"]["failures"] for r in results),
            "errors": sum(r["counters"]["errors"] for r in results)}


def run_setup(instances: int, levels, duration: float, warmup: float) -> dict:
    redis_url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    prefix = f"paco-bench-{uuid.uuid4().hex[:6]}"
    env = {"REDIS_URL": redis_url, "PACO_REDIS_PREFIX": prefix}
    rows = []
    with BenchWorld(participants=max(max(levels), BURST), stamp=True, server_env=env,
                    instances=instances) as world:
        tokens_file = world.workdir / "tokens.txt"
        tokens_file.write_text("\n".join(token for _, token in world.tokens))
        balancer = Balancer(world).start()
        try:
            burst = first_audio(balancer, tokens_file, BURST)
            print(json.dumps({"instances": instances, "first_audio": burst}), flush=True)
            time.sleep(2)
            for level in levels:
                rows.append(streaming(world, balancer, tokens_file, level, duration, warmup))
                print(json.dumps({"instances": instances, **rows[-1]}), flush=True)
        finally:
            balancer.stop()
        _forget(redis_url, prefix)
    return {"instances": instances, "balancer": balancer.kind, "database": world.engine, "streaming": rows,
            "first_audio": burst, "capacity_p99_under_50ms": capacity(rows)}


def capacity(rows: list[dict], limit_ms: float = 50.0) -> int:
    ok = [r["conversations"] for r in rows if r["p99_ms"] < limit_ms and not r["failures"] and not r["unfinished"]]
    return max(ok) if ok else 0


def _forget(redis_url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(f"*{prefix}*"):
        client.delete(key)


def run(quick: bool = False) -> list[dict]:
    duration, warmup = (8, 3) if quick else (20, 5)
    return [run_setup(n, (200,) if quick else LEVELS[n], duration, warmup) for n in (1, 2)]
