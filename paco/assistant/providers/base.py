"""The interface every LLM provider implements."""
from __future__ import annotations

from typing import Iterator, Protocol


class ProviderError(Exception):
    """The provider could not give (the rest of) a reply; ``reason`` is short and loggable."""

    def __init__(self, provider: str, reason: str):
        super().__init__(f"{provider}: {reason}")
        self.provider = provider
        self.reason = reason


class ChatProvider(Protocol):
    name: str
    default_model: str

    def allows(self, model: str) -> bool:
        """Whether a client may ask for this model by name."""

    def stream(self, messages: list[dict], model: str, usage: dict | None = None) -> Iterator[str]:
        """Yield the reply as text deltas; raise ProviderError on any failure.

        When the provider knows the token count it stores it in ``usage["completion_tokens"]``.
        """
