"""Chat: the WebSocket turn pipeline, the history API and the audio files (docs/protocol.md)."""
from flask import Blueprint

bp = Blueprint("chat", __name__, url_prefix="/api/v1/chat")

from . import audio, history, socket  # noqa: E402,F401  (register the views)
