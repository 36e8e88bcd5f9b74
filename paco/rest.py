"""The REST edge: JSON request bodies in, one JSON error shape out.

Every error a client sees is ``{"error": {"code", "message"}}``, never HTML or a trace. A
``PacoError`` from any layer becomes the status its kind names; Werkzeug's own HTTP errors get a
code of the same family.
"""
from __future__ import annotations

import logging

from flask import Flask, Request, g, jsonify, request
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from .errors import PacoError
from .validation import parse_json_object

log = logging.getLogger("paco.errors")

# A domain error's kind decides its status: one table for the whole API.
STATUS_BY_KIND = {
    "invalid": 400, "unauthorized": 401, "forbidden": 403, "not_found": 404, "conflict": 409,
    "too_large": 413, "unsupported_media_type": 415, "rate_limited": 429, "unavailable": 503,
}
# Codes for the HTTP errors Flask/Werkzeug raise on their own.
_HTTP_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 413: "too_large", 415: "unsupported_media_type",
    429: "rate_limited", 500: "internal", 503: "unavailable",
}


def status_of(err: PacoError) -> int:
    return STATUS_BY_KIND.get(err.kind, 400)


def error_response(status: int, code: str, message: str, headers: dict | None = None):
    g.error_code = code  # for the security log line (paco.security)
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def json_body(req: Request) -> dict:
    """The request's JSON object, or an ``InvalidInput`` that says what is wrong with it."""
    return parse_json_object(req.get_data(cache=True))  # raises 413 past MAX_CONTENT_LENGTH


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path.startswith("/health")


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(PacoError)
    def handle_paco_error(err: PacoError):
        headers = {"Retry-After": str(round(err.retry_after))} if err.retry_after else None
        return error_response(status_of(err), err.code, err.message, headers)

    @app.errorhandler(HTTPException)
    def handle_http_exception(err: HTTPException):
        if not _wants_json():
            return err
        status = err.code or 500
        code = _HTTP_CODES.get(status, "error")
        message = err.description or err.name
        if status == 413:
            message = f"The request body is larger than {app.config['MAX_CONTENT_LENGTH']} bytes."
        elif status == 429:
            message = "Too many attempts. Please wait a minute and try again."
        headers = {}
        if status == 429 and err.get_response().headers.get("Retry-After"):
            headers["Retry-After"] = err.get_response().headers["Retry-After"]
        return error_response(status, code, message, headers)

    @app.errorhandler(Exception)
    def handle_unexpected(err: Exception):
        if _wants_json() and isinstance(err, DBAPIError) and _unreachable(err):
            # The database is down or dropped the connection: a moment later may work, and the
            # client is told so, as for any dependency that is not answering (503, not a bug's 500).
            log.warning({"event": "database_unavailable", "path": request.path, "error": type(err.orig).__name__})
            return error_response(503, "unavailable", "The study database is not answering. Please try again in "
                                  "a minute.", {"Retry-After": "30"})
        log.exception("unhandled error on %s %s", request.method, request.path)
        if not _wants_json():
            return "Internal server error", 500
        return error_response(500, "internal", "Something went wrong on our side. Please try again.")


def _unreachable(err: DBAPIError) -> bool:
    """The database could not be reached or dropped the connection, or is too busy: not a
    statement it refused (those stay 500s, bugs to fix)."""
    if err.connection_invalidated:
        return True
    orig = err.orig
    if type(orig).__module__.startswith("psycopg"):
        # No SQLSTATE: the client could not connect; 08: connection exceptions; 57P: shut down
        # by an operator or a crash, or not accepting connections yet.
        state = getattr(orig, "sqlstate", None)
        return state is None or state.startswith(("08", "57P"))
    return getattr(orig, "sqlite_errorcode", None) == 5  # SQLITE_BUSY: still locked after the busy timeout
