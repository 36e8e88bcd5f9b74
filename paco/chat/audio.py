"""``GET /api/v1/audio/<sha256>.mp3``: a sentence's audio by its content address."""
from __future__ import annotations

from flask import Blueprint, current_app, request

from ..auth.tokens import participant_required
from ..errors import NotFound
from ..speech.cache import is_valid_key
from . import runtime

audio_bp = Blueprint("audio", __name__, url_prefix="/api/v1/audio")


@audio_bp.get("/<key>.mp3")
@participant_required
def audio_file(key: str):
    if not is_valid_key(key):
        raise NotFound("audio_not_found", "No audio has that address.")
    if request.headers.get("If-None-Match") == f'"{key}"':
        return "", 304
    audio = runtime.audio_cache(current_app).get(key)
    if audio is None:
        raise NotFound("audio_not_found", "No audio has that address.")
    response = current_app.response_class(audio, mimetype="audio/mpeg")
    # The address is the content's hash: it can never change, so browsers may keep it.
    response.headers["Cache-Control"] = "private, max-age=31536000, immutable"
    response.headers["ETag"] = f'"{key}"'
    return response
