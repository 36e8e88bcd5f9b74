"""Participant sign-in: research-ID validation, disclaimer, login (docs/protocol.md)."""
from flask import Blueprint

bp = Blueprint("auth", __name__, url_prefix="/api/v1/auth")

from . import routes  # noqa: E402,F401  (registers the views on bp)
