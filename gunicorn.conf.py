"""gunicorn settings for PaCo: one process type, gevent workers (docs/architecture.md).

Imports nothing from the project. Every value can be overridden by the environment or the
command line (``--bind`` on the command line wins over ``bind`` here).
"""
from gevent import monkey

monkey.patch_all()

import os  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402

from dotenv import load_dotenv  # noqa: E402

load_dotenv(override=False)  # as paco.config does: REDIS_URL in .env decides the default below


def default_workers() -> int:
    """One gevent worker per core this process may use (``WEB_CONCURRENCY`` overrides).

    Several workers are safe once what they must agree on is shared: revocations, rate limits,
    socket caps and the audio cache's index live in Redis (``REDIS_URL``), turns and quotas in the
    database. Without Redis, rate limits and socket caps would be counted per worker (each worker
    allowing the whole limit), so the default stays one worker, as a single laptop instance runs.
    """
    raw = os.environ.get("WEB_CONCURRENCY", "").strip()
    if raw:
        return int(raw)
    if not os.environ.get("REDIS_URL", "").strip():
        return 1
    return max(1, len(os.sched_getaffinity(0)))


bind = os.environ.get("PACO_BIND") or f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
worker_class = "gevent"
workers = default_workers()
if workers > 1 and not os.environ.get("REDIS_URL", "").strip():
    print(f"PaCo: {workers} workers without REDIS_URL: rate limits and socket caps are counted per worker "
          "(set REDIS_URL to share them)", file=sys.stderr)
if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    # /metrics must sum every worker (prometheus_client's multiprocess mode): a fresh directory
    # per start, set before any worker imports prometheus_client.
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="paco-metrics-")
# A hard cap on simultaneous connections (WebSockets included) per worker; the open-files
# limit is raised to match below, or the cap is never reached.
worker_connections = int(os.environ.get("PACO_WORKER_CONNECTIONS", "2000"))
timeout = int(os.environ.get("PACO_WORKER_TIMEOUT", "60"))
graceful_timeout = int(os.environ.get("PACO_GRACEFUL_TIMEOUT", "30"))
keepalive = 5
# gunicorn 27's control socket lives at one fixed path per user: parallel instances collide.
control_socket_disable = True
accesslog = None  # PaCo logs each request itself, as one JSON line without tokens
errorlog = "-"
loglevel = os.environ.get("PACO_GUNICORN_LOG_LEVEL", "info")
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def post_worker_init(worker):
    """On SIGTERM (a restart or a rolling deploy) the worker stops accepting; this then lets each
    chat socket finish the turn it is in and closes it with 1001, so pages reconnect at once
    (to any instance) instead of waiting out the grace period and seeing the connection drop."""
    import gevent

    def watch():
        while worker.alive:
            gevent.sleep(0.25)
        from paco.chat.sessions import going_away  # the app is loaded by now

        going_away(max(1.0, graceful_timeout - 5))

    gevent.spawn(watch)


def child_exit(server, worker):
    """A worker's gauges (open sockets) leave the sum when it exits."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def on_starting(server):
    wanted = worker_connections + 256
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))
