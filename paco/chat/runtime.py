"""Per-app speech resources (TTS providers by voice, the audio cache), built on first use."""
from __future__ import annotations

import gc
import threading

from flask import Flask
from gevent.lock import BoundedSemaphore

from ..broadcast import listen
from ..redis_client import redis_from_config
from ..speech.cache import AudioCache
from ..speech.limits import limited
from ..speech.providers import TTSProvider, build_tts_provider

_lock = threading.Lock()


def _state(app: Flask) -> dict:
    if "paco_speech" not in app.extensions:
        cap = app.config["PACO_TTS_MAX_CONCURRENT"]
        app.extensions["paco_speech"] = {"providers": {}, "cache": None,
                                         "slots": BoundedSemaphore(cap) if cap > 0 else None}
    return app.extensions["paco_speech"]


def audio_cache(app: Flask) -> AudioCache:
    state = _state(app)
    if state["cache"] is None:
        with _lock:
            if state["cache"] is None:
                state["cache"] = AudioCache(app.config["PACO_AUDIO_CACHE_DIR"],
                                            redis_client=redis_from_config(app.config),
                                            redis_prefix=f"{app.config['PACO_REDIS_PREFIX']}:audio:")
    return state["cache"]


def tts_provider(app: Flask, voice: str | None = None) -> TTSProvider | None:
    """The configured TTS provider, with a study arm's voice when it names one."""
    state = _state(app)
    providers = state["providers"]
    if voice not in providers:
        with _lock:
            if voice not in providers:
                config = dict(app.config)
                if voice:
                    config["PACO_TTS_VOICE"] = voice
                providers[voice] = limited(build_tts_provider(config), state["slots"],
                                           app.config["PACO_TTS_QUEUE_TIMEOUT"])
    return providers[voice]


def warm_up(app: Flask) -> None:
    """Pay import and set-up costs when a worker starts, not on a participant's first question.

    Measured: the ElevenLabs SDK's first use costs ~1 s, the knowledge base ~0.5-1 s (numpy),
    the safety rules ~0.1 s; paid lazily, they all landed on somebody's first sentence.
    """
    from ..assistant.chain import provider_chain
    from ..assistant.knowledge_base import default_knowledge_base
    from ..assistant.prompts import load_prompt
    from ..assistant.safety import check_message

    default_knowledge_base()
    check_message("hello")
    load_prompt(app.config.get("PACO_PROMPT_VERSION"))
    provider_chain(app.config)
    audio_cache(app)
    from .inflight import keeper

    keeper(app).start()  # heartbeats for this worker's turns, sweeps for any instance's orphans
    listen(app)  # other instances' access changes (Redis pub/sub)
    tts = tts_provider(app)
    if tts is not None:
        tts.warm_up()
    # ~130k objects exist by now (SQLAlchemy, pydantic, the SDKs) and never die; a full
    # collection walking them all blocked the loop for ~140 ms. Frozen, they are skipped.
    gc.collect()
    gc.freeze()
