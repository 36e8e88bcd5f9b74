"""What every TTS provider is and how it fails; providers.py builds them, espeak.py is one of them.

Kept apart so that a provider module never imports the module that builds it.
"""
from __future__ import annotations

from typing import Protocol, runtime_checkable


class TTSError(Exception):
    def __init__(self, reason: str, detail: str | None = None):
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}" if detail else reason)


@runtime_checkable
class TTSProvider(Protocol):
    name: str
    voice: str
    model: str
    output_format: str

    def synthesize(self, text: str) -> bytes: ...

    def warm_up(self) -> None: ...
