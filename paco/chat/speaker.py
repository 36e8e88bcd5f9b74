"""Speaking a reply sentence by sentence while its text is still streaming.

Each complete sentence is synthesised at once (a few at a time), and its audio frame is sent as
soon as it and every earlier sentence are ready, so audio always plays in sentence order.
Repeated sentences come from the content-addressed cache. A TTS failure ends the turn's audio
with ``audio_error``; the text is never held up by speech.
"""
from __future__ import annotations

import logging
import time

import gevent
from gevent.lock import BoundedSemaphore
from gevent.queue import Queue

from ..speech.cache import AudioCache
from ..speech.providers import TTSError, TTSProvider
from . import frames
from .outbox import Outbox

log = logging.getLogger("paco.chat.speaker")
AUDIO_URL = "/api/v1/audio/{key}.mp3"


class Speaker:
    def __init__(self, tts: TTSProvider, cache: AudioCache, outbox: Outbox,
                 max_parallel: int = 2):
        self.tts = tts
        self.cache = cache
        self.outbox = outbox
        self.sent = 0
        self.cache_hits = 0
        self.tts_ms = 0.0
        self.first_audio_at: float | None = None
        self.error: TTSError | None = None
        self._seq = 0
        self._slots = BoundedSemaphore(max_parallel)
        self._queue: Queue = Queue()
        self._sender = gevent.spawn(self._send_in_order)

    def say(self, text: str) -> None:
        if self.error is not None or self.outbox.closed:
            return
        self._seq += 1
        self._queue.put((self._seq, text, gevent.spawn(self._synthesize, text)))

    def wait(self) -> None:
        """Block until every sentence said so far has been sent (or the audio has failed)."""
        self._queue.put(None)
        self._sender.join()

    def end_frame(self) -> dict:
        """The turn's closing audio frame: how many were sent, or why the voice stopped."""
        if self.error is not None:
            return {"type": "audio_error", "code": "tts_failed", "count": self.sent,
                    "message": "PaCo's voice is not available right now; the text is complete."}
        return {"type": "audio_end", "count": self.sent}

    def _synthesize(self, text: str) -> tuple[str, bytes, bool] | None:
        key = self.cache.key(self.tts.name, self.tts.voice, self.tts.model, self.tts.output_format, text)
        audio = self.cache.get(key)
        if audio:
            return key, audio, True
        with self._slots:
            if self.error is not None or self.outbox.closed:
                return None  # nobody will hear it
            began = time.perf_counter()
            try:
                audio = self.tts.synthesize(text)
            finally:
                self.tts_ms += (time.perf_counter() - began) * 1000
        self.cache.put(key, audio)
        return key, audio, False

    def _send_in_order(self) -> None:
        for seq, text, job in iter(self._queue.get, None):
            if self.error is not None:
                job.kill(block=False)
                continue
            try:
                result = job.get()
            except Exception as err:  # any failure of one sentence ends the turn's audio, never its text
                self.error = err if isinstance(err, TTSError) else TTSError("error", repr(err))
                log.warning({"event": "tts_failed", "reason": self.error.reason, "seq": seq})
                continue
            if result is None:
                continue
            key, audio, cached = result
            self.cache_hits += cached
            sent_at = self.outbox.send(frames.audio(seq, text, audio, AUDIO_URL.format(key=key)))
            if sent_at is not None:
                self.sent += 1
                if self.first_audio_at is None:
                    self.first_audio_at = sent_at
