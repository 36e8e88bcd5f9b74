"""Rate limits counted per research ID (not per address), for the chat and the participant API.

Counters live where Flask-Limiter keeps its own (Redis when configured), under
``<PACO_REDIS_PREFIX>/<kind>/<research ID>``; a refusal is ``RateLimited`` with ``retry_after``,
which REST answers with 429 and ``Retry-After`` and the socket with a ``rate_limited`` frame.
When the counters' store (Redis) cannot be reached, the use is let through and logged: a Redis
outage must not drop chat sockets or refuse every message.
"""
from __future__ import annotations

import logging
import time

from flask import current_app
from limits import parse_many

from .. import metrics
from ..errors import RateLimited
from ..web_extensions import limiter

log = logging.getLogger("paco.auth.limits")
MESSAGES = {
    "chat": "You are sending messages very fast. Please wait {seconds} seconds.",
    "checkins": "That was a lot of check-ins at once. Please wait {seconds} seconds.",
    "speech": "PaCo is reading a lot aloud right now. Please wait {seconds} seconds.",
}


def hit_participant_limit(kind: str, research_id: str, limits: str, label: str) -> None:
    """Count one use of ``kind`` by ``research_id``; refuse past any of ``limits`` ("20 per minute;...")."""
    if not current_app.config["RATELIMIT_ENABLED"]:
        return
    strategy = limiter.limiter
    key = (current_app.config["PACO_REDIS_PREFIX"], kind, research_id)
    for item in parse_many(limits):
        try:
            allowed = strategy.hit(item, *key)
        except Exception as err:  # the store is unreachable: let this one through
            log.warning({"event": "participant_rate_limit_unavailable", "kind": kind, "error": type(err).__name__})
            return
        if not allowed:
            reset, _remaining = strategy.get_window_stats(item, *key)
            retry_after = max(1, round(reset - time.time()))
            metrics.LIMIT_HITS.labels(label).inc()
            raise RateLimited("rate_limited", MESSAGES[kind].format(seconds=retry_after), retry_after=retry_after)
