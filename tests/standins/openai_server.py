"""A stand-in for OpenAI's chat-completions API (and any OpenAI-compatible server).

Speaks ``POST /v1/chat/completions`` with ``stream: true`` as Server-Sent Events, the way the
real API does: a role delta, content deltas, a finish chunk, an optional usage chunk, then
``data: [DONE]``. Latency and faults come from the behaviour (see base.py for control):

    first_token_ms   delay before the first content delta          (default 0)
    tokens_per_s     pace of the following deltas; 0 = no delay     (default 0)
    reply            the text to stream                             (default: a P.A.D. answer);
                     "{n}" in it becomes the request's number, so replies can differ
    fault            null | "http_500" | "http_429" | "http_401" | "stall_first" |
                     "stall_after" | "drop_after" | "bad_json"
    fault_after      tokens sent before "stall_after"/"drop_after"  (default 3)
    stamp            true: each delta carries its emission time (tests/standins/stamps.py; benchmarks)
    faults_remaining how many requests the fault applies to; null = all
    classification   what PaCo's safety classifier request gets (default '{"category": "none"}');
                     classify_ms delays it, classify_fault "http_500" fails it

Run: ``python -m tests.standins.openai_server --port P --behaviour '{"first_token_ms": 400}'``.
"""
from __future__ import annotations

import json
import re
import time

import gevent

from tests.standins import stamps
from tests.standins.base import json_response, main

DEFAULT_REPLY = (
    "P.A.D. stands for peripheral artery disease. It means the arteries that carry blood to your "
    "legs have become narrow. Many people feel pain or cramping in their legs when they walk, and "
    "the pain goes away when they rest. Your medicines help keep blood flowing and lower your "
    "risk of a heart attack or stroke. Walking a little more each day can also help your legs "
    "feel better over time. Please talk with your care team about what is right for you."
)
_TOKEN_RE = re.compile(r"\s*[\w']+|\s*[^\w\s]")


def tokenize(text: str) -> list[str]:
    """Split like a GPT tokenizer does for English prose: words carry their leading space."""
    return _TOKEN_RE.findall(text)


def _sse(payload) -> bytes:
    return b"data: " + (payload if isinstance(payload, bytes) else json.dumps(payload).encode()) + b"\n\n"


def _chunk(model: str, delta: dict, finish=None, usage=None) -> dict:
    body = {"id": "chatcmpl-standin", "object": "chat.completion.chunk", "created": int(time.time()),
            "model": model, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    if usage is not None:
        body["choices"] = []
        body["usage"] = usage
    return body


def _error(start_response, status: str, kind: str, message: str):
    return json_response(start_response, status, {"error": {"message": message, "type": kind, "code": kind}})


def make_app(state):
    def app(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if environ["REQUEST_METHOD"] != "POST" or not path.endswith("/chat/completions"):
            return _error(start_response, "404 Not Found", "not_found", f"no route {path}")
        behaviour = state.behaviour
        fault = behaviour.get("fault")
        remaining = behaviour.get("faults_remaining")
        if fault and remaining is not None:
            if remaining <= 0:
                fault = None
            else:
                behaviour["faults_remaining"] = remaining - 1
        if fault == "http_401":
            return _error(start_response, "401 Unauthorized", "invalid_api_key", "Incorrect API key provided.")
        if fault == "http_429":
            return _error(start_response, "429 Too Many Requests", "rate_limit_exceeded", "Rate limit reached.")
        if fault == "http_500":
            return _error(start_response, "500 Internal Server Error", "server_error", "The server had an error.")
        request = json.loads(environ["standin.body"] or b"{}")
        model = request.get("model", "gpt-4o")
        reply = behaviour.get("reply", DEFAULT_REPLY).replace("{n}", str(len(state.requests)))
        tokens = tokenize(reply)
        system = ((request.get("messages") or [{}])[0].get("content") or "") if request.get("messages") else ""
        if not request.get("stream") and "safety classifier" in system:
            # PaCo's second safety opinion: answer what the test set, after its delay.
            gevent.sleep(behaviour.get("classify_ms", 0) / 1000)
            if behaviour.get("classify_fault") == "http_500":
                return _error(start_response, "500 Internal Server Error", "server_error", "classifier down")
            reply = behaviour.get("classification", '{"category": "none"}')
            return json_response(start_response, "200 OK", {
                "id": "chatcmpl-classify", "object": "chat.completion", "created": int(time.time()), "model": model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": reply}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 300, "completion_tokens": 8, "total_tokens": 308},
            })
        if not request.get("stream"):
            gevent.sleep(behaviour.get("first_token_ms", 0) / 1000)
            return json_response(start_response, "200 OK", {
                "id": "chatcmpl-standin", "object": "chat.completion", "created": int(time.time()), "model": model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": reply}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 50, "completion_tokens": len(tokens), "total_tokens": 50 + len(tokens)},
            })
        start_response("200 OK", [("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache")])
        # What the stream got through is kept on the request's log entry: a test can see that
        # PaCo closed it early (tokens_sent below the reply's length, finished false).
        entry = state.requests[-1] if state.requests else {}
        entry.update(tokens_total=len(tokens), tokens_sent=0, finished=False)
        return _stream(behaviour, fault, model, tokens, request, entry)

    return app


def _stream(behaviour, fault, model, tokens, request, entry):
    yield _sse(_chunk(model, {"role": "assistant", "content": ""}))
    if fault == "stall_first":
        gevent.sleep(behaviour.get("stall_s", 3600))
    gevent.sleep(behaviour.get("first_token_ms", 0) / 1000)
    pace = behaviour.get("tokens_per_s", 0)
    stamp = behaviour.get("stamp", False)
    fault_after = behaviour.get("fault_after", 3)
    started = time.perf_counter()
    for index, token in enumerate(tokens):
        if index and pace:
            # Pace against the start time so per-token overhead does not accumulate.
            delay = started + index / pace - time.perf_counter()
            if delay > 0:
                gevent.sleep(delay)
        if fault in ("stall_after", "drop_after") and index == fault_after:
            if fault == "stall_after":
                gevent.sleep(behaviour.get("stall_s", 3600))
            raise ConnectionAbortedError("stand-in dropped the stream on purpose")
        if fault == "bad_json" and index == fault_after:
            yield b"data: {this is not json\n\n"
        content = token + stamps.stamp(time.monotonic()) if stamp else token
        yield _sse(_chunk(model, {"content": content}))
        entry["tokens_sent"] = index + 1
    entry["finished"] = True
    yield _sse(_chunk(model, {}, finish="stop"))
    if (request.get("stream_options") or {}).get("include_usage"):
        yield _sse(_chunk(model, {}, usage={"prompt_tokens": 50, "completion_tokens": len(tokens),
                                            "total_tokens": 50 + len(tokens)}))
    yield _sse(b"[DONE]")


if __name__ == "__main__":
    main(make_app)
