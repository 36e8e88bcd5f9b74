"""OpenAI and every OpenAI-compatible server (Groq, vLLM, Ollama) through the official SDK."""
from __future__ import annotations

import logging
from typing import Iterator

import openai

from .base import ProviderError

log = logging.getLogger("paco.assistant.openai")


class OpenAICompatibleProvider:
    """Streams chat completions; one SDK client per provider object (built once per process).

    The SDK's own retries are off (``max_retries=0``): the fallback chain decides what happens
    next, and a retry hidden inside the SDK would only add seconds before the first word.
    """

    def __init__(self, name: str, api_key: str, base_url: str | None, default_model: str,
                 models: list[str], connect_timeout: float, read_timeout: float,
                 max_tokens: int, stream_usage: bool = True):
        self.name = name
        self.default_model = default_model
        self.models = set(models) | {default_model}
        self.max_tokens = max_tokens
        self.stream_usage = stream_usage
        self.client = openai.OpenAI(
            api_key=api_key, base_url=base_url, max_retries=0,
            timeout=openai.Timeout(read_timeout, connect=connect_timeout),
        )

    def allows(self, model: str) -> bool:
        return model in self.models

    def stream(self, messages: list[dict], model: str, usage: dict | None = None) -> Iterator[str]:
        extra = {"stream_options": {"include_usage": True}} if self.stream_usage else {}
        try:
            response = self.client.chat.completions.create(
                model=model, messages=messages, stream=True, max_tokens=self.max_tokens,
                temperature=0.3, **extra)
        except openai.APIStatusError as err:
            raise ProviderError(self.name, f"http {err.status_code}") from None
        except openai.APITimeoutError:
            raise ProviderError(self.name, "timeout") from None
        except openai.APIConnectionError:
            raise ProviderError(self.name, "connection failed") from None
        return self._deltas(response, usage)

    def _deltas(self, response, usage: dict | None) -> Iterator[str]:
        try:
            with response:
                for chunk in response:
                    if chunk.usage is not None and usage is not None:
                        usage["completion_tokens"] = chunk.usage.completion_tokens
                    for choice in chunk.choices:
                        if choice.delta and choice.delta.content:
                            yield choice.delta.content
        except GeneratorExit:
            raise
        except openai.APIError as err:
            raise ProviderError(self.name, f"stream error: {type(err).__name__}") from None
        except Exception as err:  # httpx2 transport errors and SSE decoding errors mid-stream
            raise ProviderError(self.name, f"stream broken: {type(err).__name__}") from None
