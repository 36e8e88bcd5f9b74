"""Opening a reply through the provider chain, with first-token and idle timeouts.

Before the first token arrives, any failure moves on to the next provider; after it, a failure
ends the reply (the caller keeps the partial text and marks the turn interrupted).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Iterator

import gevent

from .providers import ChatProvider, ProviderError

log = logging.getLogger("paco.assistant.reply")


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
    try:
        while True:
            timer = gevent.Timeout(idle_timeout)
            timer.start()
            try:
                delta = next(stream)
            except StopIteration:
                return
            except gevent.Timeout as fired:
                if fired is not timer:
                    raise
                raise ProviderError(name, f"no token for {idle_timeout:g}s") from None
            finally:
                timer.close()
            yield delta
    finally:
        if hasattr(stream, "close"):
            stream.close()
