"""``GET /metrics``: Prometheus text for operators, from the configured addresses or with a token.

Counts are per worker process. With several gunicorn workers, set ``PROMETHEUS_MULTIPROC_DIR``
(prometheus_client's multiprocess mode) so that every worker's counts are summed; see
docs/deploy.md.
"""
from __future__ import annotations

import hmac
import os

from flask import Blueprint, Response, abort, current_app, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

bp = Blueprint("metrics", __name__)

# Milliseconds: a turn's first text within ~2 s, first audio within ~3 s, on a healthy provider.
_MS_BUCKETS = (50, 100, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 10000, 30000)

TURNS = Counter("paco_turns_total", "Chat turns answered, by final status.", ["status"])
FIRST_TOKEN_MS = Histogram("paco_first_token_ms", "Time from a question to its first text.", buckets=_MS_BUCKETS)
FIRST_AUDIO_MS = Histogram("paco_first_audio_ms", "Time from a question to its first audio.", buckets=_MS_BUCKETS)
PROVIDER_ERRORS = Counter("paco_provider_errors_total", "LLM provider failures within turns.")
FALLBACKS = Counter("paco_fallbacks_total", "Turns answered by a fallback provider after the primary failed.")
TTS_ERRORS = Counter("paco_tts_errors_total", "Turns whose speech failed.")
CLIENT_GONE = Counter("paco_client_gone_total", "Turns cut short because the participant left mid-reply.")
OPEN_SOCKETS = Gauge("paco_open_sockets", "Chat sockets open in this worker.", multiprocess_mode="livesum")
ORPHANS_CLOSED = Counter("paco_orphaned_turns_closed_total",
                         "Turns closed after the worker running them died, by the answer's status.", ["status"])
LIMIT_HITS = Counter("paco_limit_hits_total", "Requests refused by a rate limit, cap or quota.", ["limit"])


def record_turn(status: str, first_token_ms: float | None, first_audio_ms: float | None,
                provider_errors: int, fell_back: bool, tts_failed: bool) -> None:
    TURNS.labels(status).inc()
    if first_token_ms is not None:
        FIRST_TOKEN_MS.observe(first_token_ms)
    if first_audio_ms is not None:
        FIRST_AUDIO_MS.observe(first_audio_ms)
    PROVIDER_ERRORS.inc(provider_errors)
    if fell_back:
        FALLBACKS.inc()
    if tts_failed:
        TTS_ERRORS.inc()


def _allowed() -> bool:
    token = current_app.config["PACO_METRICS_TOKEN"]
    offered = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(offered, f"Bearer {token}"):
        return True
    return request.remote_addr in current_app.config["PACO_METRICS_ALLOW"]


@bp.get("/metrics")
def metrics():
    if not _allowed():
        abort(404)  # as if there were nothing here
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
    return Response(generate_latest(), content_type=CONTENT_TYPE_LATEST)
