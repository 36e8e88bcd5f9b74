"""Rules every request and response of the site keeps, whatever blueprint serves it.

- Every response: ``X-Content-Type-Options: nosniff`` and ``Referrer-Policy: same-origin``; in
  production ``Strict-Transport-Security`` too.
- Every state-changing call of the participant API (POST/PUT/PATCH/DELETE under ``/api/``) must send
  its body as ``application/json`` and, when a browser names an ``Origin``, come from the site itself or an
  allowed origin: a cross-site ``text/plain`` form can otherwise post to sign-in (login CSRF).
"""
from __future__ import annotations

import logging
from urllib.parse import urlparse

from flask import Flask, current_app, g, request

from . import metrics
from .errors import Forbidden, UnsupportedMediaType

HSTS = "max-age=31536000; includeSubDomains"
# Refusals worth an operator's eye, as structured lines tagged "security" (never a token or text).
SECURITY_STATUSES = {401: "auth_failure", 403: "refused", 415: "refused", 429: "limit_hit"}
security_log = logging.getLogger("paco.security")
_STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def origin_allowed(origin: str | None) -> bool:
    """No Origin (a script, curl) is allowed; a browser's must be this host or a configured one."""
    if not origin:
        return True
    return origin in current_app.config["PACO_ALLOWED_ORIGINS"] or urlparse(origin).netloc == request.host


def _check_api_write():
    if request.method not in _STATE_CHANGING or not request.path.startswith("/api/"):
        return
    if not origin_allowed(request.headers.get("Origin")):
        raise Forbidden("origin_not_allowed", "This site may not call PaCo's API.")
    # A call with no body at all (sign out) sends no type; anything with a body or a type is JSON.
    has_body = bool(request.content_length) or bool(request.mimetype)
    if has_body and request.mimetype != "application/json":
        raise UnsupportedMediaType("unsupported_media_type",
                                   "Send the request body as JSON (Content-Type: application/json).")


def init_security(app: Flask) -> None:
    app.before_request(_check_api_write)

    @app.after_request
    def _security_log(response):
        if response.status_code in SECURITY_STATUSES:
            code = g.get("error_code") or str(response.status_code)
            security_log.warning({"event": SECURITY_STATUSES[response.status_code], "security": True,
                                  "code": code, "method": request.method, "path": request.path,
                                  "ip": request.remote_addr})
            if response.status_code == 429:
                metrics.LIMIT_HITS.labels("http").inc()
        return response

    @app.after_request
    def _headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if app.config.get("PACO_ENV") == "production":
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response
