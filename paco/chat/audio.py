"""``GET /api/v1/audio/<sha256>.mp3``: a sentence's audio by its content address; and
``POST /api/v1/audio/speech``: a stored answer (or the check-in card) spoken on demand."""
from __future__ import annotations

import logging

import gevent
from flask import Blueprint, current_app, g, jsonify, request
from gevent.pool import Pool

from ..auth.limits import hit_participant_limit
from ..auth.tokens import participant_required
from ..errors import Conflict, InvalidInput, NotFound, RateLimited, Unavailable
from ..models import utcnow
from ..rest import json_body
from ..services import checkins, conversations, quotas
from ..speech.cache import is_valid_key
from ..speech.providers import TTSError
from ..speech.sentences import SentenceSplitter
from ..validation import field
from . import runtime
from .speaker import AUDIO_URL

audio_bp = Blueprint("audio", __name__, url_prefix="/api/v1/audio")
log = logging.getLogger("paco.chat.audio")
SPEECH_PARALLEL = 2  # sentences synthesised at once for one request, as in a live turn


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


@audio_bp.post("/speech")
@participant_required
def speech():
    """Any stored answer can be heard again: its sentences from the audio cache, or synthesised now.

    The sentences are split as a live turn splits them, so an answer spoken when it streamed is
    served from the cache at no cost.
    """
    participant = g.participant
    hit_participant_limit("speech", participant.research_id, current_app.config["PACO_RATE_LIMIT_SPEECH"],
                          "speech")
    body = json_body(request)
    message_id = field(body, "message_id", int, required=False)
    prompt = field(body, "prompt", str, required=False)
    if (message_id is None) == (prompt is None):
        raise InvalidInput("missing_field", "Send either 'message_id' (a stored answer) or 'prompt'.")
    if message_id is not None:
        text = conversations.spoken_answer(participant.research_id, message_id)
    else:
        text = checkins.prompt_text(checkins.settings_of(participant), prompt)
    cohort = participant.cohort
    tts = runtime.tts_provider(current_app, cohort.tts_voice if cohort else None) \
        if (cohort is None or cohort.tts_enabled) else None
    if tts is None:
        raise Conflict("speech_off", "PaCo's voice is off for your study.")
    cache = runtime.audio_cache(current_app)
    splitter = SentenceSplitter()
    sentences = splitter.feed(text) + splitter.flush()
    keys = [cache.key(tts.name, tts.voice, tts.model, tts.output_format, s) for s in sentences]
    missing = [i for i, key in enumerate(keys) if cache.get(key) is None]
    if missing:
        _check_quota(participant)
        _synthesize(tts, cache, [(sentences[i], keys[i]) for i in missing])
    answer = {"audio": [{"seq": n, "text": s, "audio_url": AUDIO_URL.format(key=k)}
                        for n, (s, k) in enumerate(zip(sentences, keys), start=1)]}
    if message_id is not None:
        answer["message_id"] = message_id
    return jsonify(answer)


def _check_quota(participant) -> None:
    """Past the cohort's daily speech cap, nothing new is synthesised (cached audio still plays)."""
    cohort = participant.cohort
    state = quotas.quota_state(participant.research_id, 0, cohort.daily_tts_chars if cohort else 0)
    if state is not None and state.tts_reached:
        raise RateLimited("quota_reached", quotas.quota_message(state),
                          retry_after=max(1, (state.resets_at - utcnow()).total_seconds()))


def _synthesize(tts, cache, jobs: list[tuple[str, str]]) -> None:
    def one(job):
        sentence, key = job
        cache.put(key, tts.synthesize(sentence))

    pool = Pool(SPEECH_PARALLEL)
    greenlets = [pool.spawn(one, job) for job in jobs]
    gevent.joinall(greenlets)
    failed = [g.exception for g in greenlets if g.exception is not None]
    if failed:
        error = failed[0]
        log.warning({"event": "tts_failed", "where": "speech", "reason": getattr(error, "reason", repr(error))})
        if not isinstance(error, TTSError):
            log.error("speech synthesis failed", exc_info=error)
        raise Unavailable("speech_unavailable", "PaCo's voice is not available right now. Please try again later.")
