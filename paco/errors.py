"""JSON errors for the API: one shape, ``{"error": {"code", "message"}}``, never HTML or a trace."""
from __future__ import annotations

import logging

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger("paco.errors")

# Codes for the HTTP errors Flask/Werkzeug raise on their own.
_HTTP_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 413: "too_large", 415: "unsupported_media_type",
    429: "rate_limited", 500: "internal", 503: "unavailable",
}


class ApiError(Exception):
    """An error a client should see: an HTTP status, a stable code and a plain message."""

    def __init__(self, status: int, code: str, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def error_response(status: int, code: str, message: str, headers: dict | None = None):
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path.startswith("/health")


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def handle_api_error(err: ApiError):
        return error_response(err.status, err.code, err.message, err.headers)

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
        log.exception("unhandled error on %s %s", request.method, request.path)
        if not _wants_json():
            return "Internal server error", 500
        return error_response(500, "internal", "Something went wrong on our side. Please try again.")
