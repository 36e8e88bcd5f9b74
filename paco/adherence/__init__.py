"""Participants' daily adherence check-ins over REST (docs/protocol.md)."""
from flask import Blueprint

bp = Blueprint("adherence", __name__, url_prefix="/api/v1/adherence")

from . import routes  # noqa: E402,F401  (registers the views on bp)
