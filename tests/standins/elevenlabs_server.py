"""Stand-in for ElevenLabs' text-to-speech HTTP API, for tests and benchmarks.

    POST /v1/text-to-speech/{voice_id}/stream?output_format=mp3_22050_32   (chunked audio/mpeg)
    POST /v1/text-to-speech/{voice_id}?output_format=...                   (whole file)

Body `{"text", "model_id", ...}`, key in the `xi-api-key` header. The audio is a soft tone whose
length grows with the text (~60 ms per character, like speech), made of self-contained MP3 clips
encoded once per output format, so every response is a valid MP3 at the requested format.

Behaviour (start-up JSON, or POST /__control__/config):
    first_byte_ms   delay before the response starts (default 0)
    chunk_ms        delay between streamed chunks (default 0); chunk_bytes (default 1024)
    fault           null | "http_500" | "http_401" | "http_429" | any "http_<code>"
                    | "stall" (headers, then nothing) | "drop" (some audio, then the connection
                    closes mid-body) | "slow" (slow_bytes every slow_ms: never idle long enough
                    for a read timeout, yet far too slow)
    require_key     if set, any other xi-api-key gets 401 invalid_api_key, like the real API
    max_concurrent  if set, requests beyond this many in flight get 429, like the real API

    python -m tests.standins.elevenlabs_server --port N --behaviour '{"first_byte_ms": 80}'
"""
from __future__ import annotations

import errno
import json
import math
import re
import struct
import uuid
from urllib.parse import parse_qs

from tests.standins.base import json_response, main

CLIP_SECONDS = 0.25
SECONDS_PER_CHAR = 0.06
MAX_SECONDS = 60.0
DEFAULT_FORMAT = "mp3_44100_128"  # what the real API uses when output_format is absent
_ROUTE = re.compile(r"^/v1/text-to-speech/([^/]+)(/stream)?/?$")
_ERRORS = {
    401: ("invalid_api_key", "Invalid API key"),
    422: ("invalid_request", "Invalid request"),
    429: ("too_many_concurrent_requests", "Too many concurrent requests for your subscription"),
    500: ("internal_server_error", "An internal server error occurred"),
}
_clips: dict[str, bytes] = {}


def clip_for(output_format: str) -> bytes | None:
    """A short self-contained MP3 for output_format (mp3_<rate>_<kbps>), or None if unsupported."""
    if output_format not in _clips:
        from paco.speech.espeak import encode_mp3

        m = re.fullmatch(r"mp3_(\d+)_(\d+)", output_format)
        if not m:
            return None
        rate, kbps = int(m.group(1)), int(m.group(2))
        n = int(rate * CLIP_SECONDS)
        # A quiet 220 Hz triangle wave: audible in a browser check, cheap to generate.
        period = rate // 220
        pcm = struct.pack(f"<{n}h", *(int(3000 * (abs((i % period) * 4 / period - 2) - 1))
                                     for i in range(n)))
        try:
            _clips[output_format] = encode_mp3(pcm, rate, kbps, rate)
        except Exception:
            return None
    return _clips[output_format]


def _error(start_response, code: int, message: str | None = None):
    status, default = _ERRORS.get(code, ("error", "Error"))
    return json_response(start_response, f"{code} Error",
                         {"detail": {"status": status, "message": message or default}})


def make_app(state):
    import gevent

    clip_for("mp3_22050_32")  # the format PaCo uses, ready before the first request
    in_flight = [0]

    def body(audio: bytes, b: dict, write, streaming: bool):
        in_flight[0] += 1
        try:
            fault = b.get("fault")
            if fault == "stall":
                write(b"")  # flush the status line and headers, then say nothing more
                gevent.sleep(float(b.get("stall_s", 3600)))
                return
            size = len(audio) if not streaming else int(b.get("chunk_bytes") or 1024)
            delay = float(b.get("chunk_ms") or 0) / 1000
            if fault == "slow":
                size, delay = int(b.get("slow_bytes", 64)), float(b.get("slow_ms", 200)) / 1000
            limit = len(audio)
            if fault == "drop":
                limit = int(b.get("drop_after_bytes") or max(1, len(audio) // 2))
            sent = 0
            while sent < limit:
                if sent and delay:
                    gevent.sleep(delay)
                piece = audio[sent:min(sent + size, limit)]
                sent += len(piece)
                yield piece
            if fault == "drop":
                # pywsgi closes the socket quietly on a reset: the client sees a body cut short.
                raise ConnectionResetError(errno.ECONNRESET, "stand-in drops the connection")
        finally:
            in_flight[0] -= 1

    def app(environ, start_response):
        b = dict(state.behaviour)
        m = _ROUTE.match(environ.get("PATH_INFO", ""))
        if not m:
            return json_response(start_response, "404 Not Found", {"detail": "Not Found"})
        if environ["REQUEST_METHOD"] != "POST":
            return json_response(start_response, "405 Method Not Allowed",
                                 {"detail": "Method Not Allowed"})
        if b.get("first_byte_ms"):
            gevent.sleep(float(b["first_byte_ms"]) / 1000)
        key = b.get("require_key")
        if key is not None and environ.get("HTTP_XI_API_KEY") != key:
            return _error(start_response, 401)
        fault = b.get("fault") or ""
        if fault.startswith("http_"):
            return _error(start_response, int(fault[5:]))
        limit = b.get("max_concurrent")
        if limit is not None and in_flight[0] >= int(limit):
            return _error(start_response, 429)
        try:
            request = json.loads(environ["standin.body"] or b"{}")
        except ValueError:
            request = None
        text = request.get("text") if isinstance(request, dict) else None
        if not isinstance(text, str) or not text.strip():
            return _error(start_response, 422, "text must be a non-empty string")
        query = parse_qs(environ.get("QUERY_STRING", ""))
        output_format = query.get("output_format", [DEFAULT_FORMAT])[0]
        clip = clip_for(output_format)
        if clip is None:
            return _error(start_response, 422, f"unsupported output_format {output_format}")
        seconds = min(MAX_SECONDS, len(text) * SECONDS_PER_CHAR)
        audio = clip * max(1, math.ceil(seconds / CLIP_SECONDS))
        streaming = bool(m.group(2))
        headers = [("Content-Type", "audio/mpeg"), ("request-id", uuid.uuid4().hex),
                   ("x-character-count", str(len(text)))]
        if not streaming:
            headers.append(("Content-Length", str(len(audio))))
        write = start_response("200 OK", headers)
        return body(audio, b, write, streaming)

    return app


if __name__ == "__main__":
    main(make_app)
