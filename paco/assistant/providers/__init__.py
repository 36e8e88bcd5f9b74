"""LLM providers behind one small interface: a stream of text deltas (DESIGN.md §5)."""
from .base import ChatProvider, ProviderError
from .registry import build_provider, provider_names

__all__ = ["ChatProvider", "ProviderError", "build_provider", "provider_names"]
