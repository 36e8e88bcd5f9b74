"""One structured log line per request: method, path, status, duration. Never tokens.

The path is logged without its query string, and no header is logged, so neither a bearer
token nor a token passed in a URL can reach the log.
"""
from __future__ import annotations

import json
import logging
import sys
import time

from flask import Flask, g, request

log = logging.getLogger("paco.request")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"ts": round(record.created, 3), "level": record.levelname.lower(), "logger": record.name}
        if isinstance(record.msg, dict):
            entry.update(record.msg)
        else:
            entry["message"] = record.getMessage()
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(level: str) -> None:
    root = logging.getLogger("paco")
    if any(getattr(h, "_paco", False) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler._paco = True
    root.addHandler(handler)
    root.setLevel(level.upper())
    root.propagate = False


def init_request_log(app: Flask) -> None:
    @app.before_request
    def _start_timer():
        g.request_started = time.perf_counter()

    @app.after_request
    def _log_request(response):
        started = g.get("request_started")
        duration_ms = (time.perf_counter() - started) * 1000 if started else None
        log.info({
            "event": "request",
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "duration_ms": round(duration_ms, 2) if duration_ms is not None else None,
        })
        return response
