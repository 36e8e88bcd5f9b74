"""Signed checkpoints of the audit chain's head, kept outside the database.

The chain's hashes are keyed (HMAC), so nobody without ``PACO_AUDIT_KEY`` can re-chain edited
events; but deleting the newest events, or all of them, leaves a shorter chain that still links.
A checkpoint records the newest event's id and hash, signed with the key, in a file an operator
can ship elsewhere (``PACO_AUDIT_ANCHOR_FILE``) and in Redis when configured. ``verify`` then
refuses a chain that lacks, or has changed, any event a checkpoint names.

The app writes one at least every ``PACO_AUDIT_ANCHOR_SECONDS`` while events are added: at once
when the last is older than that, else by a timer, so the last event of a burst is covered too.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import threading
import time
from dataclasses import asdict, dataclass

log = logging.getLogger("paco.audit")


@dataclass(frozen=True)
class Checkpoint:
    event_id: int
    hash: str
    at: float
    sig: str = ""

    def payload(self) -> bytes:
        return json.dumps({"event_id": self.event_id, "hash": self.hash, "at": self.at},
                          sort_keys=True, separators=(",", ":")).encode()


class Anchors:
    """Where checkpoints go, and the key that signs them."""

    def __init__(self, key: bytes, path: str | None, redis_client=None, redis_prefix: str = "paco",
                 interval: float = 60.0):
        self.key, self.path, self.redis, self.interval = key, path, redis_client, interval
        self.redis_key = f"{redis_prefix}:audit:checkpoints"
        self._lock = threading.Lock()
        self._last_written = 0.0
        self._written_head: int | None = None
        self._pending: tuple[int, str] | None = None
        self._timer = None

    def sign(self, checkpoint: Checkpoint) -> Checkpoint:
        sig = hmac.new(self.key, checkpoint.payload(), hashlib.sha256).hexdigest()
        return Checkpoint(checkpoint.event_id, checkpoint.hash, checkpoint.at, sig)

    def genuine(self, checkpoint: Checkpoint) -> bool:
        return hmac.compare_digest(self.sign(checkpoint).sig, checkpoint.sig)

    def write(self, event_id: int, event_hash: str) -> Checkpoint:
        checkpoint = self.sign(Checkpoint(event_id, event_hash, round(time.time(), 3)))
        line = json.dumps(asdict(checkpoint), separators=(",", ":"))
        if self.path:
            os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as handle:
                handle.write(line + "\n")
                handle.flush()
                os.fsync(handle.fileno())
        if self.redis is not None:
            self.redis.rpush(self.redis_key, line)
        with self._lock:
            self._last_written, self._written_head = time.monotonic(), event_id
        return checkpoint

    def committed(self, event_id: int, event_hash: str) -> None:
        """A new chain head was committed: anchor it now, or within the interval."""
        with self._lock:
            due = time.monotonic() - self._last_written >= self.interval
            self._pending = None if due else (event_id, event_hash)
            arm = not due and self._timer is None
        if due:
            self._safely(self.write, event_id, event_hash)
        elif arm:
            import gevent

            self._timer = gevent.spawn_later(self.interval, self._timer_fired)

    def _timer_fired(self) -> None:
        self._timer = None
        self.flush()

    def flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, None
        if pending is not None and pending[0] != self._written_head:
            self._safely(self.write, *pending)

    @staticmethod
    def _safely(write, *args) -> None:
        try:
            write(*args)
        except Exception:  # the event is committed; a missed checkpoint must not undo the action
            log.exception("could not write an audit checkpoint")

    def read(self) -> list[Checkpoint]:
        """Every checkpoint from the file and Redis, oldest first (duplicates removed)."""
        lines: list[str] = []
        if self.path and os.path.exists(self.path):
            with open(self.path, encoding="utf-8") as handle:
                lines += [line for line in handle if line.strip()]
        if self.redis is not None:
            lines += [raw.decode() for raw in self.redis.lrange(self.redis_key, 0, -1)]
        found: dict[tuple, Checkpoint] = {}
        for line in lines:
            try:
                checkpoint = Checkpoint(**json.loads(line))
            except (ValueError, TypeError):
                checkpoint = Checkpoint(-1, "", 0.0, "unreadable")
            found[(checkpoint.event_id, checkpoint.hash, checkpoint.sig)] = checkpoint
        return sorted(found.values(), key=lambda c: (c.event_id, c.at))
