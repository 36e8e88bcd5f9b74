"""Open chat sockets counted in Redis, so that a cap per client address or per research ID holds
across every worker and instance (without Redis, each worker counts its own: paco.chat.sessions).

Each capped key (``<prefix>:sockets:<kind>:<key>``) is a sorted set of the sockets holding a slot,
scored by when the slot lapses. Taking a slot is one Lua script (atomic on the server): drop lapsed
slots, refuse past the cap, add this one. The worker holding a socket renews its slots every
``ttl/3`` seconds, so the slots of a worker that died lapse within ``ttl`` seconds. Redis' own clock
scores every slot, so instances' clocks do not matter here.

Redis being unreachable must not lock participants out: a slot is then granted (the cap is not
enforced) and Redis is left alone for a while, as the audio cache does.
"""
from __future__ import annotations

import logging
import time
from typing import Iterable

log = logging.getLogger("paco.services.socket_slots")

# KEYS[1]: the set; ARGV: cap (0: none), member, ttl in ms. Returns 1 (slot held) or 0 (refused).
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local cap = tonumber(ARGV[1])
if cap > 0 and not redis.call('ZSCORE', KEYS[1], ARGV[2]) and redis.call('ZCARD', KEYS[1]) >= cap then
  return 0
end
redis.call('ZADD', KEYS[1], now + ttl, ARGV[2])
redis.call('PEXPIRE', KEYS[1], ttl)
return 1
"""
BACKOFF_SECONDS = 30.0

Slot = tuple[str, str, str]  # (kind, key, member): kind is "ip" or "rid"


class SocketSlots:
    def __init__(self, redis_client, prefix: str = "paco", ttl_seconds: float = 30.0):
        self.redis = redis_client
        self.prefix = f"{prefix}:sockets:"
        self.ttl_ms = int(ttl_seconds * 1000)
        self.refresh_seconds = ttl_seconds / 3
        self._take = redis_client.register_script(_TAKE)
        self._down_until = 0.0

    def _key(self, kind: str, key: str) -> str:
        return f"{self.prefix}{kind}:{key}"

    def take(self, kind: str, key: str, member: str, cap: int) -> bool:
        """Hold a slot for ``member`` under ``key`` unless ``cap`` are held already (a slot it holds
        already is kept); True when it holds one (or Redis cannot say)."""
        if self._down():
            return True
        try:
            return bool(self._take(keys=[self._key(kind, key)], args=[cap, member, self.ttl_ms]))
        except Exception as exc:
            self._failed("take", exc)
            return True

    def give_back(self, kind: str, key: str, member: str) -> None:
        if self._down():
            return
        try:
            self.redis.zrem(self._key(kind, key), member)
        except Exception as exc:
            self._failed("give_back", exc)

    def renew(self, slots: Iterable[Slot]) -> None:
        """Keep the slots of the sockets still open (every ``refresh_seconds``), in one round trip."""
        slots = list(slots)
        if not slots or self._down():
            return
        try:
            with self.redis.pipeline(transaction=False) as pipe:
                for kind, key, member in slots:
                    self._take(keys=[self._key(kind, key)], args=[0, member, self.ttl_ms], client=pipe)
                pipe.execute()
        except Exception as exc:
            self._failed("renew", exc)

    def held(self, kind: str, key: str) -> int:
        """How many live slots ``key`` holds across all instances (for tests and operators)."""
        key = self._key(kind, key)
        return int(self.redis.zcount(key, int(self.redis.time()[0] * 1000), "+inf"))

    def _down(self) -> bool:
        return time.monotonic() < self._down_until

    def _failed(self, what: str, exc: Exception) -> None:
        self._down_until = time.monotonic() + BACKOFF_SECONDS
        log.warning({"event": "socket_slots_unavailable", "operation": what, "error": str(exc),
                     "caps_off_for_s": BACKOFF_SECONDS})
