"""The benchmark's world: stand-in OpenAI/ElevenLabs at fixed latencies, PaCo under gunicorn,
a fresh database with enough signed-in participants, and their tokens.

Configured like production when keys are set: PostgreSQL (a fresh database on the server of
``TEST_DATABASE_URL``, by default the local one), unless it cannot be reached or
``BENCH_DATABASE=sqlite`` asks for the offline default. On a machine with two or more cores,
the PaCo worker gets core 0 to itself and everything that drives or stands in for the outside
world runs on the others, so the figures are PaCo's, not the load generator's.
"""
from __future__ import annotations

import os
import resource
import subprocess
import tempfile
import uuid
from pathlib import Path

from tests.standins.base import StandInProcess
from tests.support.databases import create_database, drop_database
from tests.support.server import LiveServer

# About 150 tokens in several sentences, like a typical GPT-4o answer. "{n}" makes every reply
# different, so the audio cache cannot hide the cost of speech.
BENCH_REPLY = (
    "Answer {n}: peripheral artery disease, or P.A.D., means the arteries that carry blood to your "
    "legs have become narrow and stiff. Many people feel cramping or tired muscles in their calves "
    "when they walk, and the feeling goes away after a few minutes of rest. Your medicines play a big "
    "part in keeping you well. Aspirin or clopidogrel helps stop clots from forming, and a statin "
    "lowers your cholesterol so the narrowing grows more slowly. Taking them every day, even when you "
    "feel fine, lowers your risk of a heart attack, a stroke, or losing part of a leg. Walking most "
    "days also helps your legs build new small blood vessels over time. If a medicine bothers you or "
    "costs too much, please tell your care team before you change anything."
)
LLM_FIRST_TOKEN_MS = 400
LLM_TOKENS_PER_S = 40
TTS_FIRST_BYTE_MS = 250
SECRET = "bench-secret-key-long-enough-for-hs256-signing-0123456789"
LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
SERVER_CORE = 0


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB (Linux reports ru_maxrss in KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def choose_database() -> str:
    """postgresql when its server answers (as deployed), else sqlite; BENCH_DATABASE decides."""
    wanted = os.environ.get("BENCH_DATABASE")
    if wanted:
        return wanted
    os.environ.setdefault("TEST_DATABASE_URL", LOCAL_POSTGRES)
    import sqlalchemy as sa

    try:
        engine = sa.create_engine(os.environ["TEST_DATABASE_URL"], connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
        return "postgresql"
    except Exception as err:  # no PostgreSQL here: the offline default still runs
        print(f"bench: PostgreSQL unreachable ({type(err).__name__}); using SQLite")
        return "sqlite"


def child_pids(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(child) for child in out.split()]


def cpu_seconds(pid: int) -> float:
    """CPU seconds used so far by a process and its children (gunicorn's workers)."""
    total = 0.0
    for proc in [pid] + child_pids(pid):
        with open(f"/proc/{proc}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / 100  # utime + stime, in clock ticks
    return total


def keep_off_server_core() -> bool:
    """Move this process (and what it starts from now on) off the server's core, if there are
    two or more; returns whether it did."""
    cores = os.sched_getaffinity(0)
    if SERVER_CORE not in cores or len(cores) < 2:
        return False
    os.sched_setaffinity(0, cores - {SERVER_CORE})
    return True


def pin_workers(server: LiveServer) -> None:
    """gunicorn's workers on the server's core, alone."""
    for worker in child_pids(server.proc.pid):
        os.sched_setaffinity(worker, {SERVER_CORE})


class BenchWorld:
    def __init__(self, participants: int, stamp: bool = False, server_env: dict | None = None, instances: int = 1,
                 first_token_ms: int = LLM_FIRST_TOKEN_MS, classify_ms: int | None = None):
        self.participants = participants
        self.instances = instances
        self.workdir = Path(tempfile.mkdtemp(prefix="paco-bench-"))
        self.engine = choose_database()
        self.database_url = create_database(self.engine, str(self.workdir))
        self.openai = StandInProcess("tests.standins.openai_server", {
            "first_token_ms": first_token_ms, "tokens_per_s": LLM_TOKENS_PER_S,
            # PaCo's safety classification: a first token's wait plus a few tokens, like the answer's.
            # The answer's text is held until it arrives (paco/assistant/second_opinion.py), so its
            # first ~4 deltas wait up to these 100 ms by design; classify_ms < first_token_ms
            # measures the relay alone.
            "classify_ms": first_token_ms + 100 if classify_ms is None else classify_ms,
            "reply": BENCH_REPLY, "stamp": stamp})
        # 4 kB per chunk: about a second of mp3_22050_32 audio per network write.
        self.eleven = StandInProcess("tests.standins.elevenlabs_server", {"first_byte_ms": TTS_FIRST_BYTE_MS,
                                                                          "chunk_bytes": 4096})
        self.env = {
            "DATABASE_URL": self.database_url, "SECRET_KEY": SECRET, "PACO_INSTANCE_DIR": str(self.workdir),
            "PACO_LLM_PROVIDER": "openai", "OPENAI_API_KEY": "sk-bench", "PACO_TTS_PROVIDER": "elevenlabs",
            "ELEVENLABS_API_KEY": "el-bench", "PACO_RATE_LIMIT_ENABLED": "false",
            # Every load client connects from 127.0.0.1.
            "PACO_MAX_SOCKETS_PER_IP": "0",
            "PACO_AUDIO_CACHE_DIR": str(self.workdir / "audio"), "PACO_LOG_LEVEL": "WARNING",
            "PACO_LLM_FIRST_TOKEN_TIMEOUT": "30", "PACO_LLM_IDLE_TIMEOUT": "30", "PACO_TTS_TIMEOUT": "30",
        }
        self.env.update(server_env or {})
        self.server: LiveServer | None = None
        self.servers: list[LiveServer] = []
        self.tokens: list[tuple[str, str]] = []

    def start(self) -> "BenchWorld":
        # One instance: its worker gets core 0 alone; the rest (inherited by the stand-ins,
        # gunicorn's master, the clients) keeps off it. Several: nothing is pinned (one worker per
        # core, sharing it with the stand-ins and clients, starved: fewer turns, worse p99).
        pinned = keep_off_server_core() if self.instances == 1 else False
        self.openai.start()
        self.eleven.start()
        self.env["OPENAI_BASE_URL"] = self.openai.url + "/v1"
        self.env["ELEVENLABS_BASE_URL"] = self.eleven.url
        self._prepare_database()
        self.servers = [LiveServer(self.env, log_path=str(self.workdir / f"server-{n}.log")).launch()
                        for n in range(self.instances)]
        for server in self.servers:
            server.wait()
        self.server = self.servers[0]
        if pinned:
            pin_workers(self.server)
        return self

    def stop(self) -> None:
        for proc in (*self.servers, self.openai, self.eleven):
            if proc is not None:
                proc.stop()
        drop_database(self.database_url)

    def _prepare_database(self) -> None:
        """Migrate, then enrol participants who accepted the disclaimer, and mint their tokens."""
        saved = {k: os.environ.get(k) for k in self.env}
        os.environ.update(self.env)
        try:
            from flask_jwt_extended import create_access_token
            from flask_migrate import upgrade

            from paco import create_app
            from paco.extensions import db
            from paco.models import ResearchID
            from paco.services import consent
            from paco.services.demo import load_demo

            app = create_app({"SQLALCHEMY_DATABASE_URI": self.database_url})
            with app.app_context():
                upgrade()
                load_demo()
                disclaimer = consent.current_disclaimer()
                ids = [f"BENCH{n:04d}" for n in range(self.participants)]
                db.session.add_all(ResearchID(research_id=rid, status="active") for rid in ids)
                db.session.commit()
                for rid in ids:
                    consent.acknowledge(rid, disclaimer, "bench")
                self.tokens = [(rid, create_access_token(identity=rid)) for rid in ids]
                db.session.remove()
                db.engine.dispose()
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

    def conversation_id(self) -> str:
        return "bench-" + uuid.uuid4().hex[:12]

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
