"""One Redis client per process and URL, shared by everything PaCo keeps there (``REDIS_URL``)."""
from __future__ import annotations

import os
import threading
from typing import Mapping

_lock = threading.Lock()
_clients: dict = {}


def redis_from_config(config: Mapping):
    """The client for ``REDIS_URL``, or None when Redis is not configured."""
    url = config.get("REDIS_URL")
    if not url:
        return None
    key = (os.getpid(), url)  # a forked worker must not share its parent's connections
    with _lock:
        if key not in _clients:
            import redis

            _clients[key] = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        return _clients[key]
