"""OpenAI and every OpenAI-compatible server (Groq, vLLM, Ollama) through the official SDK.

The SDK makes the request (auth, base URL, timeouts, status errors); the reply's Server-Sent
Events are read from its streaming-response API and decoded here with ``json.loads``. Measured
under load, the SDK's own per-chunk model construction was ~30 % of a worker's CPU (docs/field-notes.md:
0.3 ms per token); this decoder also merges the events that arrive in one network read into one
delta, so a busy worker sends fewer, fuller frames while an idle one still sends every token at once.
"""
from __future__ import annotations

import json
import re
from typing import Iterator

import httpx2
import openai

from ...provider_http import provider_transport
from .base import ProviderError

_LINE_BREAK = re.compile(rb"\r\n|\r|\n")


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
            http_client=openai.DefaultHttpxClient(transport=provider_transport(httpx2)),
        )

    def allows(self, model: str) -> bool:
        return model in self.models

    def stream(self, messages: list[dict], model: str, usage: dict | None = None) -> Iterator[str]:
        extra = {"stream_options": {"include_usage": True}} if self.stream_usage else {}
        try:
            # The messages go in extra_body, which the SDK documents as taking precedence over
            # the named arguments: given as `messages`, the SDK walks them against its typed
            # schema, ~1.7 ms of CPU per request with a few turns of history (PaCo's messages
            # are plain JSON already). The request is otherwise the SDK's, unchanged.
            response = self.client.chat.completions.with_streaming_response.create(
                model=model, messages=[], stream=True, max_tokens=self.max_tokens, temperature=0.3,
                extra_body={"messages": messages}, **extra).__enter__()
        except openai.APIStatusError as err:
            raise ProviderError(self.name, f"http {err.status_code}", rate_limited=err.status_code == 429,
                                retry_after=_retry_after(err.response)) from None
        except openai.APITimeoutError:
            raise ProviderError(self.name, "timeout") from None
        except openai.APIConnectionError:
            raise ProviderError(self.name, "connection failed") from None
        return self._deltas(response, usage)

    def _deltas(self, response, usage: dict | None) -> Iterator[str]:
        decoder = SSEDeltas(self.name, usage)
        try:
            for data in response.iter_bytes():
                text = decoder.feed(data)
                if text:
                    yield text
                if decoder.done:
                    return
        except (GeneratorExit, ProviderError):
            raise
        except Exception as err:  # httpx2 transport errors mid-stream (reset, truncated body)
            raise ProviderError(self.name, f"stream broken: {type(err).__name__}") from None
        finally:
            response.close()
        text = "" if decoder.done else decoder.finish()
        if text:
            yield text
        if not decoder.done:
            raise ProviderError(self.name, "stream ended without [DONE]")


def _retry_after(response) -> float | None:
    try:
        return float(response.headers.get("retry-after"))
    except (TypeError, ValueError):
        return None


class SSEDeltas:
    """Incremental decoder of a chat-completions event stream into text.

    Lines may end with CRLF, LF or CR (the SSE spec allows all three), and a network read may end
    anywhere, between the CR and LF of one line break included; an event is dispatched at the
    blank line that ends it, its ``data:`` lines joined with LF.
    """

    def __init__(self, provider: str, usage: dict | None):
        self.provider = provider
        self.usage = usage
        self.done = False
        self._buffer = b""
        self._event: list[bytes] | None = None  # data lines of the event being read

    def feed(self, data: bytes) -> str:
        buffer = self._buffer + data
        # A CR at the very end may be the first half of a CRLF: it waits for the next read.
        end = len(buffer) - 1 if buffer.endswith(b"\r") else len(buffer)
        lines = _LINE_BREAK.split(buffer[:end])
        self._buffer = lines.pop() + buffer[end:]  # the unfinished last line
        parts: list[str] = []
        for line in lines:
            if not line:
                if self._event is not None:
                    parts.extend(self._data(b"\n".join(self._event)))
                    self._event = None
            elif line.startswith(b"data:"):
                value = line[6:] if line.startswith(b"data: ") else line[5:]
                self._event = [*(self._event or ()), value]
            # other fields (event:, id:, retry:) and comments (":") carry nothing PaCo uses
        return "".join(parts)

    def finish(self) -> str:
        """The body ended: a CR held back as a possible CRLF was a line break after all."""
        return self.feed(b"\n") if self._buffer.endswith(b"\r") else ""

    def _data(self, payload: bytes) -> list[str]:
        payload = payload.strip()
        if payload == b"[DONE]":
            self.done = True
            return []
        try:
            chunk = json.loads(payload)
        except ValueError:
            raise ProviderError(self.provider, "stream sent malformed JSON") from None
        if not isinstance(chunk, dict):
            raise ProviderError(self.provider, "stream sent an unexpected event")
        if chunk.get("error"):
            raise ProviderError(self.provider, "stream error event")
        if chunk.get("usage") and self.usage is not None:
            self.usage["completion_tokens"] = chunk["usage"].get("completion_tokens")
        texts = []
        for choice in chunk.get("choices") or ():
            content = (choice.get("delta") or {}).get("content")
            if content:
                texts.append(content)
        return texts
