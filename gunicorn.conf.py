"""gunicorn settings for PaCo: one process type, gevent workers (docs/architecture.md).

Imports nothing from the project. Every value can be overridden by the environment or the
command line (``--bind`` on the command line wins over ``bind`` here).
"""
from gevent import monkey

monkey.patch_all()

import os  # noqa: E402
import resource  # noqa: E402

bind = os.environ.get("PACO_BIND") or f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
worker_class = "gevent"
workers = int(os.environ.get("WEB_CONCURRENCY", "1"))
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


def on_starting(server):
    wanted = worker_connections + 256
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))
