"""PaCo's answer to the barrier a participant names in the daily check-in.

After "some" or "none" with a reason, PaCo's next message is the matching guidance: reviewed
text drawn from the knowledge-base entries it names (barriers.yaml), streamed and spoken like any
other reply. Loading is strict, as for the knowledge base: a missing reason, an unknown entry or
a malformed field stops the load with a message naming it.
"""
from __future__ import annotations

import datetime
import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import gevent
import yaml

from ..models.checkins import BARRIERS
from .knowledge_base import KnowledgeBaseError, default_knowledge_base
from .providers.curated import split_deltas

BARRIERS_FILE = Path(__file__).with_name("barriers.yaml")
PROVIDER = "checkin"  # messages.provider of a barrier reply; its model names the guidance


@dataclass(frozen=True)
class Guidance:
    reason: str
    title: str
    answer: str
    entries: tuple[str, ...]
    source_title: str
    source_url: str
    reviewed_on: datetime.date

    @property
    def model(self) -> str:
        """Stored as the reply's ``model``: which guidance, in which wording."""
        return f"barrier.{self.reason}:{hashlib.sha256(self.answer.encode()).hexdigest()[:8]}"


def _text(value, what: str, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise KnowledgeBaseError(f"{where}: {what} must be a non-empty string")
    return " ".join(value.split())


def load(path: Path = BARRIERS_FILE) -> dict[str, Guidance]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    items = data.get("barriers") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise KnowledgeBaseError(f"{path.name}: 'barriers' must be a list")
    known = {entry.id for entry in default_knowledge_base().entries}
    guidance: dict[str, Guidance] = {}
    for item in items:
        reason = item.get("reason") if isinstance(item, dict) else None
        where = f"{path.name}: {reason!r}"
        if reason not in BARRIERS or reason in guidance:
            raise KnowledgeBaseError(f"{where}: unknown or repeated reason")
        entries = item.get("entries")
        if not isinstance(entries, list) or not entries or set(entries) - known:
            raise KnowledgeBaseError(f"{where}: entries must name knowledge-base entries "
                                     f"(unknown: {sorted(set(entries or []) - known)})")
        source, reviewed = item.get("source") or {}, item.get("reviewed_on")
        if not isinstance(reviewed, datetime.date):
            raise KnowledgeBaseError(f"{where}: reviewed_on must be a date")
        guidance[reason] = Guidance(reason, _text(item.get("title"), "title", where),
                                    _text(item.get("answer"), "answer", where), tuple(entries),
                                    _text(source.get("title"), "source.title", where),
                                    _text(source.get("url"), "source.url", where), reviewed)
    missing = set(BARRIERS) - guidance.keys()
    if missing:
        raise KnowledgeBaseError(f"{path.name}: no guidance for {sorted(missing)}")
    return guidance


@functools.lru_cache(maxsize=1)
def default_guidance() -> dict[str, Guidance]:
    return load()


def guidance_for(reason: str) -> Guidance:
    return default_guidance()[reason]


def paced(text: str, delay_ms: float) -> Iterator[str]:
    """The guidance as word-sized deltas at the offline answers' pace, so it streams like a reply."""
    for delta in split_deltas(text):
        if delay_ms:
            gevent.sleep(delay_ms / 1000)
        yield delta
