"""Opening a reply through the provider chain, with first-token and idle timeouts.

Before the first token arrives, any failure moves on to the next provider; after it, a failure
ends the reply (the caller keeps the partial text and marks the turn interrupted).
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Iterator

import gevent
from tenacity import Retrying, retry_if_exception, stop_after_attempt

from .providers import ChatProvider, ProviderError

log = logging.getLogger("paco.assistant.reply")


RATE_LIMIT_TRIES = 3
RATE_LIMIT_MAX_WAIT = 4.0


def _rate_limited(err: BaseException) -> bool:
    return isinstance(err, ProviderError) and err.rate_limited


def _backoff(state) -> float:
    """The provider's Retry-After if it gave one, else 0.25 s doubling, never over 4 s."""
    err = state.outcome.exception()
    exponential = 0.25 * 2 ** (state.attempt_number - 1)
    return min(RATE_LIMIT_MAX_WAIT, getattr(err, "retry_after", None) or exponential)


class NoProviderAnswered(Exception):
    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors) or "no provider configured")
        self.errors = errors


@dataclass
class Reply:
    provider: ChatProvider
    model: str
    deltas: Iterator[str]
    errors: list[str] = field(default_factory=list)
    usage: dict = field(default_factory=dict)


def open_reply(chain: list[tuple[ChatProvider, str]], messages: list[dict],
               first_token_timeout: float, idle_timeout: float) -> Reply:
    errors: list[str] = []
    for provider, model in chain:
        usage: dict = {}
        stream = None
        timer = gevent.Timeout(first_token_timeout)
        timer.start()
        try:
            # A 429 is tried again after a pause, within the first-token budget (the timer above
            # ends the waiting too); anything else moves on to the next provider at once.
            for attempt in Retrying(retry=retry_if_exception(_rate_limited), stop=stop_after_attempt(RATE_LIMIT_TRIES),
                                    wait=_backoff, sleep=gevent.sleep, reraise=True):
                with attempt:
                    stream = provider.stream(messages, model, usage)
                    first = next(stream)
        except gevent.Timeout as fired:
            if fired is not timer:
                raise
            errors.append(f"{provider.name}: no first token within {first_token_timeout:g}s")
        except StopIteration:
            errors.append(f"{provider.name}: empty reply")
        except ProviderError as err:
            errors.append(str(err))
        else:
            return Reply(provider, model, _guarded(first, stream, idle_timeout, provider.name), errors, usage)
        finally:
            timer.close()
        if stream is not None and hasattr(stream, "close"):
            stream.close()
        log.warning({"event": "provider_failed", "error": errors[-1]})
    raise NoProviderAnswered(errors)


def _guarded(first: str, stream: Iterator[str], idle_timeout: float, name: str) -> Iterator[str]:
    yield first
    deadline = _IdleDeadline(idle_timeout)
    try:
        while True:
            try:
                delta = deadline.wait_for(stream)
            except StopIteration:
                return
            except _Idle as fired:
                if fired.deadline is not deadline:
                    raise
                raise ProviderError(name, f"no token for {idle_timeout:g}s") from None
            yield delta
    finally:
        deadline.cancel()
        if hasattr(stream, "close"):
            stream.close()


class _Idle(BaseException):
    """Like gevent.Timeout, not an Exception: a provider's own error handling must not catch it."""

    def __init__(self, deadline: "_IdleDeadline"):
        super().__init__("idle")
        self.deadline = deadline


class _IdleDeadline:
    """The idle timeout of one stream: one timer for the whole stream, not one per token.

    A gevent.Timeout per token cost ~3 % of a busy worker's CPU. This timer is re-armed only
    when it fires: if the reader is not waiting for a token, or has waited less than the limit,
    it sleeps again for what is left; otherwise it raises in the waiting reader.
    """

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.reader: gevent.Greenlet | None = None  # set only while waiting for a token
        self.since = 0.0
        self._loop = gevent.get_hub().loop
        self._timer = None
        self._arm(seconds)

    def wait_for(self, stream: Iterator[str]) -> str:
        self.since, self.reader = time.monotonic(), gevent.getcurrent()
        try:
            return next(stream)
        finally:
            self.reader = None

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.close()
            self._timer = None

    def _arm(self, seconds: float) -> None:
        self.cancel()
        self._timer = self._loop.timer(seconds)
        self._timer.start(self._fired)

    def _fired(self) -> None:
        if self.reader is None:  # busy elsewhere: nothing is being waited for yet
            self._arm(self.seconds)
            return
        waited = time.monotonic() - self.since
        if waited < self.seconds:
            self._arm(self.seconds - waited)
            return
        reader, self._timer = self.reader, None
        reader.throw(_Idle(self))
