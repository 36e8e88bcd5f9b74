"""Versioned system prompts: one file per version (``v1.md``, ``v2.md``…), never edited once used.

Every assistant message records the version that produced it, so a study can tell which words
each participant's answers came from. Change the prompt by adding a file, not by editing one.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

PROMPT_DIR = Path(__file__).resolve().parent
_VERSION_RE = re.compile(r"^v(\d+)$")


@dataclass(frozen=True)
class Prompt:
    version: str
    text: str


@functools.cache
def available_versions() -> tuple[str, ...]:
    versions = [p.stem for p in PROMPT_DIR.glob("v*.md") if _VERSION_RE.match(p.stem)]
    return tuple(sorted(versions, key=lambda v: int(v[1:])))


def latest_version() -> str:
    return available_versions()[-1]


@functools.cache
def load_prompt(version: str | None = None) -> Prompt:
    """The prompt of ``version`` (default: the newest); ValueError names an unknown version."""
    version = version or latest_version()
    if version not in available_versions():
        raise ValueError(f"unknown prompt version {version!r} (available: {', '.join(available_versions())})")
    return Prompt(version, (PROMPT_DIR / f"{version}.md").read_text(encoding="utf-8").strip())
