"""The interface every LLM provider implements."""
from __future__ import annotations

from typing import Iterator, Protocol


class ProviderError(Exception):
    """The provider could not give (the rest of) a reply; ``reason`` is short and loggable."""

    def __init__(self, provider: str, reason: str, rate_limited: bool = False, retry_after: float | None = None):
        super().__init__(f"{provider}: {reason}")
        self.provider = provider
        self.reason = reason
        self.rate_limited = rate_limited  # HTTP 429: worth another try after a pause
        self.retry_after = retry_after    # the provider's own Retry-After, in seconds


class ChatProvider(Protocol):
    name: str
    default_model: str

    def allows(self, model: str) -> bool:
        """Whether a client may ask for this model by name."""

    def stream(self, messages: list[dict], model: str, usage: dict | None = None) -> Iterator[str]:
        """Yield the reply as text deltas; raise ProviderError on any failure.

        When the provider knows the token count it stores it in ``usage["completion_tokens"]``.
        """
