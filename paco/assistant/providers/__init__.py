"""LLM providers behind one small interface: a stream of text deltas (docs/architecture.md)."""
from .base import ChatProvider, ProviderError
from .registry import build_provider, provider_names

__all__ = ["ChatProvider", "ProviderError", "build_provider", "provider_names"]
