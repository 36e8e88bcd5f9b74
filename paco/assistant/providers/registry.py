"""Building providers from settings; one instance per (name, settings) per process."""
from __future__ import annotations

import threading
from typing import Mapping

from .base import ChatProvider

DEFAULT_MODELS = {
    "openai": ("gpt-4o-mini", ["gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini"]),
    "groq": ("llama-3.3-70b-versatile", ["llama-3.3-70b-versatile", "llama-3.1-8b-instant"]),
}

_cache: dict[tuple, ChatProvider] = {}
_lock = threading.Lock()


def provider_names() -> tuple[str, ...]:
    return ("curated", "openai", "groq")


def _settings_key(name: str, config: Mapping) -> tuple:
    keys = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "GROQ_API_KEY", "GROQ_BASE_URL", "PACO_LLM_MODEL",
            "PACO_LLM_CONNECT_TIMEOUT", "PACO_LLM_FIRST_TOKEN_TIMEOUT", "PACO_LLM_IDLE_TIMEOUT",
            "PACO_LLM_MAX_TOKENS", "PACO_CURATED_DELAY_MS")
    return (name,) + tuple(str(config.get(k)) for k in keys) + tuple(config.get("PACO_LLM_MODELS") or ())


def build_provider(name: str, config: Mapping) -> ChatProvider:
    """The provider called ``name``; raises ValueError naming the missing setting."""
    key = _settings_key(name, config)
    with _lock:
        if key not in _cache:
            _cache[key] = _build(name, config)
        return _cache[key]


def _build(name: str, config: Mapping) -> ChatProvider:
    if name == "curated":
        from .curated import CuratedProvider

        return CuratedProvider(delay_ms=config.get("PACO_CURATED_DELAY_MS", 25))
    if name not in DEFAULT_MODELS:
        raise ValueError(f"unknown LLM provider {name!r} (known: {', '.join(provider_names())})")
    from .openai_compat import OpenAICompatibleProvider

    if name == "openai":
        api_key, base_url = config.get("OPENAI_API_KEY"), config.get("OPENAI_BASE_URL")
        if not api_key:
            raise ValueError("PACO_LLM_PROVIDER=openai needs OPENAI_API_KEY")
    else:
        api_key, base_url = config.get("GROQ_API_KEY"), config.get("GROQ_BASE_URL")
        if not api_key:
            raise ValueError("PACO_LLM_PROVIDER=groq needs GROQ_API_KEY")
    default_model, models = DEFAULT_MODELS[name]
    configured = config.get("PACO_LLM_MODELS") or []
    primary = config.get("PACO_LLM_PROVIDER") == name
    return OpenAICompatibleProvider(
        name=name, api_key=api_key, base_url=base_url,
        default_model=(config.get("PACO_LLM_MODEL") if primary and config.get("PACO_LLM_MODEL") else default_model),
        models=configured if primary and configured else models,
        connect_timeout=config["PACO_LLM_CONNECT_TIMEOUT"],
        # The SDK's read timeout is a backstop; the pipeline enforces first-token and idle limits.
        read_timeout=max(config["PACO_LLM_FIRST_TOKEN_TIMEOUT"], config["PACO_LLM_IDLE_TIMEOUT"]),
        max_tokens=config["PACO_LLM_MAX_TOKENS"],
    )
