"""A worker-wide cap on simultaneous TTS requests: sentences past it wait their turn.

Speech providers limit concurrent requests per account (ElevenLabs: 2-15 by plan) and answer
429 past it. Every turn speaks a few sentences at once, so a handful of simultaneous turns would
hit the limit and lose their voice. Instead, requests past ``PACO_TTS_MAX_CONCURRENT`` queue
here (text is never held up: only speech waits), and a 429 that still comes (several workers or
instances share one account) is tried again after a short pause (tenacity) before the turn's
audio ends with ``audio_error``.
"""
from __future__ import annotations

import gevent
from gevent.lock import BoundedSemaphore
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from .base import TTSError

RETRIES_ON_429 = 3


def _concurrency_refused(err: BaseException) -> bool:
    return isinstance(err, TTSError) and err.reason == "http 429"


class ConcurrencyLimitedTTS:
    """``provider`` behind ``slots`` (shared by every voice of the worker)."""

    def __init__(self, provider, slots: BoundedSemaphore, queue_timeout: float):
        self._provider = provider
        self._slots = slots
        self._queue_timeout = queue_timeout

    def __getattr__(self, name):  # name, voice, model, output_format, warm_up
        return getattr(self._provider, name)

    def synthesize(self, text: str) -> bytes:
        if not self._slots.acquire(timeout=self._queue_timeout):
            raise TTSError("busy", f"no speech slot free within {self._queue_timeout:g}s")
        try:
            for attempt in Retrying(retry=retry_if_exception(_concurrency_refused),
                                    stop=stop_after_attempt(RETRIES_ON_429), wait=wait_exponential(0.2, max=1.0),
                                    sleep=gevent.sleep, reraise=True):
                with attempt:
                    return self._provider.synthesize(text)
        finally:
            self._slots.release()


def limited(provider, slots: BoundedSemaphore | None, queue_timeout: float):
    return provider if provider is None or slots is None else ConcurrencyLimitedTTS(provider, slots, queue_timeout)
