"""Text-to-speech providers: one sentence of text in, MP3 bytes out.

`build_tts_provider(app.config)` picks one: `espeak` (offline default, see espeak.py),
`elevenlabs` (official SDK) or `none`. Every failure is a TTSError with a short `reason`
("http 500", "timeout", "connection", "engine", ...) so the chat pipeline can skip the audio of
one sentence without losing its text.
"""
from __future__ import annotations

import contextlib
import os
import time
from typing import Mapping

from .base import TTSError, TTSProvider

DEFAULT_FORMAT = "mp3_22050_32"
ELEVENLABS_DEFAULT_VOICE = "9BWtsMINqrJLrRacOk9x"  # Aria
# Flash v2.5 answers in ~75 ms of model time against several hundred ms for multilingual v2;
# with one request per sentence that latency is what the listener waits for, and flash costs half.
ELEVENLABS_DEFAULT_MODEL = "eleven_flash_v2_5"
ELEVENLABS_DEFAULT_URL = "https://api.elevenlabs.io"


_clients: dict = {}


def _sdk_client(api_key: str, base_url: str, connect_timeout: float, read_timeout: float):
    """One SDK client (and connection pool) per process and settings, built on first use."""
    # The pid keeps a forked worker from reusing its parent's pooled connections.
    key = (os.getpid(), api_key, base_url, connect_timeout, read_timeout)
    client = _clients.get(key)
    if client is None:
        import httpx
        from elevenlabs.client import ElevenLabs

        timeout = httpx.Timeout(read_timeout, connect=connect_timeout)

        def keep_client_timeout(request):
            # The SDK passes a single float per request (its 240 s default, or ours), which
            # would replace the separate connect limit; restore the client's timeouts.
            request.extensions["timeout"] = timeout.as_dict()

        from ..provider_http import provider_transport

        http = httpx.Client(timeout=timeout, event_hooks={"request": [keep_client_timeout]},
                            transport=provider_transport(httpx))
        client = _clients.setdefault(key, ElevenLabs(api_key=api_key, base_url=base_url,
                                                     httpx_client=http, timeout=read_timeout))
    return client


def _greenlet_deadline(seconds: float):
    """A hard limit on the whole request, enforceable only when sockets yield to gevent."""
    from gevent import monkey

    if not monkey.is_module_patched("socket"):
        return contextlib.nullcontext(None)
    import gevent
    return gevent.Timeout(seconds)


class ElevenLabsTTS:
    name = "elevenlabs"

    def __init__(self, api_key: str, base_url: str = ELEVENLABS_DEFAULT_URL,
                 voice: str = ELEVENLABS_DEFAULT_VOICE, model: str = ELEVENLABS_DEFAULT_MODEL,
                 output_format: str = DEFAULT_FORMAT, connect_timeout: float = 3.0,
                 timeout: float = 15.0):
        if not api_key:
            raise ValueError("ELEVENLABS_API_KEY is required for PACO_TTS_PROVIDER=elevenlabs")
        self.api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.voice = voice
        self.model = model
        self.output_format = output_format
        self.connect_timeout = connect_timeout
        self.timeout = timeout

    def warm_up(self) -> None:
        """Import the SDK and build its client now (~1 s), not before a participant's first sentence."""
        _sdk_client(self.api_key, self.base_url, self.connect_timeout, self.timeout)

    def synthesize(self, text: str) -> bytes:
        if not text.strip():
            raise TTSError("empty text")
        import gevent
        import httpx
        from elevenlabs.core.api_error import ApiError

        client = _sdk_client(self.api_key, self.base_url, self.connect_timeout, self.timeout)
        deadline = time.monotonic() + self.timeout
        audio = bytearray()
        guard = _greenlet_deadline(self.timeout)
        try:
            with guard:
                stream = client.text_to_speech.stream(
                    self.voice, text=text, model_id=self.model, output_format=self.output_format,
                    # chunk_size None: yield bytes as they arrive instead of re-chunking to 1 KB;
                    # max_retries 0: the stream call never retries anyway, and the pipeline decides.
                    request_options={"chunk_size": None, "max_retries": 0})
                for chunk in stream:
                    audio += chunk
                    # Without gevent this bounds a slow trickle; a stall ends at the read timeout.
                    if time.monotonic() > deadline:
                        raise TTSError("timeout", f"no complete audio after {self.timeout:g}s")
        except TTSError:
            raise
        except gevent.Timeout as exc:
            if exc is not guard:
                raise  # someone else's deadline
            raise TTSError("timeout", f"no complete audio after {self.timeout:g}s") from exc
        except ApiError as exc:
            raise TTSError(f"http {exc.status_code}", _api_detail(exc.body)) from exc
        except httpx.TimeoutException as exc:
            raise TTSError("timeout", type(exc).__name__) from exc
        except httpx.HTTPError as exc:  # refused, reset, closed mid-body, bad URL
            raise TTSError("connection", f"{type(exc).__name__}: {exc}") from exc
        except Exception as exc:
            raise TTSError("error", f"{type(exc).__name__}: {exc}") from exc
        if not audio:
            raise TTSError("empty audio")
        return bytes(audio)


def _api_detail(body) -> str:
    # ElevenLabs errors look like {"detail": {"status": "invalid_api_key", "message": "..."}}.
    detail = body.get("detail", body) if isinstance(body, dict) else body
    if isinstance(detail, dict):
        return str(detail.get("status") or detail.get("message") or detail)[:200]
    return str(detail)[:200]


def build_tts_provider(config: Mapping) -> TTSProvider | None:
    """The configured provider, or None for PACO_TTS_PROVIDER=none."""
    kind = str(config.get("PACO_TTS_PROVIDER") or "espeak").strip().lower()
    output_format = config.get("PACO_TTS_FORMAT") or DEFAULT_FORMAT
    voice = config.get("PACO_TTS_VOICE")
    if kind == "none":
        return None
    if kind == "espeak":
        from .espeak import EspeakTTS
        return EspeakTTS(voice=voice or "en-us", output_format=output_format)
    if kind == "elevenlabs":
        if not config.get("ELEVENLABS_API_KEY"):
            raise ValueError("PACO_TTS_PROVIDER=elevenlabs needs ELEVENLABS_API_KEY to be set")
        return ElevenLabsTTS(
            api_key=config["ELEVENLABS_API_KEY"],
            base_url=config.get("ELEVENLABS_BASE_URL") or ELEVENLABS_DEFAULT_URL,
            voice=voice or ELEVENLABS_DEFAULT_VOICE,
            model=config.get("PACO_TTS_MODEL") or ELEVENLABS_DEFAULT_MODEL,
            output_format=output_format,
            connect_timeout=float(config.get("PACO_TTS_CONNECT_TIMEOUT") or 3),
            timeout=float(config.get("PACO_TTS_TIMEOUT") or 15),
        )
    raise ValueError(f"PACO_TTS_PROVIDER={kind!r} is not one of espeak, elevenlabs, none")
