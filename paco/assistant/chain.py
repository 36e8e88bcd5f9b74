"""Which providers and models answer a participant: the cohort's arm, then the fallback chain."""
from __future__ import annotations

import logging
from typing import Mapping

from .providers import ChatProvider, build_provider

log = logging.getLogger("paco.assistant.chain")


def provider_chain(config: Mapping, cohort_provider: str | None = None, cohort_model: str | None = None,
                   requested_model: str | None = None) -> list[tuple[ChatProvider, str]]:
    """Providers to try in order, each with its model.

    The primary is the cohort's provider, else ``PACO_LLM_PROVIDER``; then ``PACO_LLM_FALLBACK``
    (default: curated, so an offline answer is always possible). The arm's model wins; otherwise a
    client may pick a model from the primary's allow-list; anything else gets the default.
    """
    primary = cohort_provider or config["PACO_LLM_PROVIDER"]
    names = [primary] + list(config.get("PACO_LLM_FALLBACK") or ["curated"])
    chain: list[tuple[ChatProvider, str]] = []
    for name in dict.fromkeys(names):
        try:
            provider = build_provider(name, config)
        except ValueError as err:
            log.error({"event": "provider_unusable", "provider": name, "error": str(err)})
            continue
        model = provider.default_model
        if name == primary:
            # A study arm's model is part of the protocol: a client cannot override it.
            if cohort_model:
                model = cohort_model
            elif requested_model and provider.allows(requested_model):
                model = requested_model
        chain.append((provider, model))
    return chain
