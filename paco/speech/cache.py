"""Content-addressed audio cache: sha256(provider, voice, model, format, normalised text) -> MP3.

Files live under a two-level fan-out (ab/abcdef....mp3) so no directory grows huge; the same
key names the public URL /api/v1/audio/<key>.mp3. When several instances run, the directory is
one they all mount (NFS, an object-store mount: docs/deploy.md), so a sentence synthesised by one
is served by all. With a Redis client the cache also keeps its index there: one small entry per
sentence (``<prefix><key>`` = its size in bytes, expiring after ``ttl_seconds``), not the audio,
so Redis' memory stays small (~100 bytes a sentence). The index says what the cluster has cached
(``SCAN <prefix>*``), and a file the index knows but this instance cannot read means the
directory is not shared: that is logged (and the sentence synthesised again). A cache failure is
never fatal: it only means synthesising again. Files do not expire by themselves.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
import time
from pathlib import Path

log = logging.getLogger(__name__)

_KEY = re.compile(r"[0-9a-f]{64}")
# After a Redis error, leave Redis alone this long: a client retrying a dead server can take
# seconds per call (redis-py 8 by default: ~4 s), which would hold up every sentence's audio.
REDIS_BACKOFF_SECONDS = 30.0
# How often "the cache directory is not shared" may be logged.
UNSHARED_WARNING_SECONDS = 600.0


def is_valid_key(key: str) -> bool:
    """Exactly 64 lowercase hex characters (anything else must never reach the filesystem)."""
    return isinstance(key, str) and _KEY.fullmatch(key) is not None


def normalise_text(text: str) -> str:
    return " ".join(text.casefold().split())


class AudioCache:
    def __init__(self, directory: str | Path, redis_client=None,
                 ttl_seconds: int = 30 * 24 * 3600, redis_prefix: str = "paco:audio:"):
        self.directory = Path(directory)
        self.redis = redis_client
        self.ttl_seconds = ttl_seconds
        self.redis_prefix = redis_prefix
        self._redis_down_until = 0.0
        self._unshared_warned_at: float | None = None

    @staticmethod
    def key(provider: str, voice: str, model: str, output_format: str, text: str) -> str:
        # JSON keeps the fields apart: ("a b", "c") and ("a", "b c") must not collide.
        payload = json.dumps([provider, voice, model, output_format, normalise_text(text)],
                             ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(payload.encode()).hexdigest()

    def path_for(self, key: str) -> Path:
        if not is_valid_key(key):
            raise ValueError("audio cache key must be 64 lowercase hex characters")
        return self.directory / key[:2] / f"{key}.mp3"

    def get(self, key: str) -> bytes | None:
        path = self.path_for(key)
        try:
            audio = path.read_bytes()
            if audio:
                return audio
        except FileNotFoundError:
            pass
        except OSError:
            log.warning("audio cache: cannot read %s", path, exc_info=True)
        if self._redis_call("exists", self.redis_prefix + key):
            self._not_shared(path)
        return None

    def put(self, key: str, audio: bytes) -> None:
        path = self.path_for(key)
        if not audio:
            return
        self._write_file(path, audio)
        self._redis_call("set", self.redis_prefix + key, len(audio), ex=self.ttl_seconds)

    def _not_shared(self, path: Path) -> None:
        now = time.monotonic()
        if self._unshared_warned_at is None or now - self._unshared_warned_at > UNSHARED_WARNING_SECONDS:
            self._unshared_warned_at = now
            log.warning("audio cache: another instance cached %s but it is not in %s here: "
                        "PACO_AUDIO_CACHE_DIR must be a directory every instance shares", path.name, self.directory)

    def _redis_call(self, method: str, *args, **kwargs):
        if self.redis is None or time.monotonic() < self._redis_down_until:
            return None
        try:
            return getattr(self.redis, method)(*args, **kwargs)
        except Exception as exc:
            self._redis_down_until = time.monotonic() + REDIS_BACKOFF_SECONDS
            log.warning("audio cache: redis %s failed (%s); files only for %ds",
                        method, exc, REDIS_BACKOFF_SECONDS)
            return None

    def _write_file(self, path: Path, audio: bytes) -> None:
        # Written beside the target then renamed: a reader sees the whole file or none.
        tmp = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".part")
            os.fchmod(fd, 0o644)  # mkstemp's 0600 would hide the file from a front web server
            with os.fdopen(fd, "wb") as f:
                f.write(audio)
            os.replace(tmp, path)
            tmp = None
        except OSError:
            log.warning("audio cache: cannot write %s", path, exc_info=True)
        finally:
            if tmp is not None:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
