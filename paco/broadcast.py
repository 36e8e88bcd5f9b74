"""Events every instance must hear, over Redis pub/sub (``<PACO_REDIS_PREFIX>:events``).

``paco.services.events`` signals stay within one process. With ``REDIS_URL`` set, each process that
sends one (a worker serving the admin site, a ``flask ids set-status`` run) also publishes it, and
every serving worker re-sends what other processes published, marked ``remote=True``: pausing or
withdrawing a research ID on one instance closes that participant's sockets on all of them at once,
not only at their next message. Publishing is best effort: a worker that misses one still refuses
the participant's next frame (every frame checks their standing).
"""
from __future__ import annotations

import json
import logging
import os

from flask import Flask

from .redis_client import redis_from_config
from .services import events
from .services.turn_leases import new_holder

log = logging.getLogger("paco.broadcast")
_origins: dict[int, str] = {}


def origin() -> str:
    """This process' name on the channel (what it published itself is not sent again); per process,
    so that workers forked from one parent still hear each other."""
    return _origins.setdefault(os.getpid(), new_holder())


def channel(config) -> str:
    return f"{config['PACO_REDIS_PREFIX']}:events"


def init_broadcast(app: Flask) -> None:
    """Publish this process' access changes (no-op without Redis)."""
    redis = redis_from_config(app.config)
    if redis is None:
        return
    name = channel(app.config)

    def publish(research_id: str, remote: bool = False, **_) -> None:
        if remote:
            return
        try:
            redis.publish(name, json.dumps({"event": "access_changed", "research_id": research_id,
                                            "origin": origin()}))
        except Exception as exc:
            log.warning({"event": "broadcast_failed", "error": str(exc)})

    app.extensions["paco_broadcast"] = publish  # the signal holds receivers weakly
    events.access_changed.connect(publish)


def listen(app: Flask) -> None:
    """In a serving worker: re-send other processes' events here, for as long as the worker lives."""
    import gevent
    import redis as redis_lib

    url = app.config.get("REDIS_URL")
    if not url or app.extensions.get("paco_listener"):
        return

    def run() -> None:
        # Its own connection: a subscriber waits on its socket indefinitely, unlike other calls.
        client = redis_lib.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=None,
                                          health_check_interval=30)
        while True:
            try:
                pubsub = client.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(channel(app.config))
                for message in pubsub.listen():
                    _received(message.get("data"))
            except Exception as exc:
                log.warning({"event": "broadcast_listener_failed", "error": str(exc)})
                gevent.sleep(2)

    app.extensions["paco_listener"] = gevent.spawn(run)


def _received(data) -> None:
    try:
        event = json.loads(data)
    except (TypeError, ValueError):
        return
    if event.get("origin") == origin() or event.get("event") != "access_changed":
        return
    if isinstance(event.get("research_id"), str):
        events.access_changed.send(event["research_id"], remote=True)
