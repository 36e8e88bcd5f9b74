"""The offline default: answers from PaCo's reviewed knowledge base, streamed in small deltas."""
from __future__ import annotations

import hashlib
import re
from typing import Iterator

import gevent

from ..knowledge_base import NO_MATCH_REPLY, KnowledgeBase, default_knowledge_base

_DELTA_RE = re.compile(r"\S+\s*")


def split_deltas(text: str) -> list[str]:
    """A fixed text as word-sized deltas, so it streams like a model's reply."""
    return _DELTA_RE.findall(text)


def knowledge_version(kb: KnowledgeBase) -> str:
    """A short fingerprint of the entries, recorded as the 'model' so studies know which KB answered."""
    digest = hashlib.sha256()
    for entry in kb.entries:
        digest.update(f"{entry.id}\0{entry.answer}\0{entry.reviewed_on}\n".encode())
    return "kb-" + digest.hexdigest()[:10]


class CuratedProvider:
    name = "curated"

    def __init__(self, delay_ms: int = 25, kb: KnowledgeBase | None = None):
        self.kb = kb or default_knowledge_base()
        self.delay = delay_ms / 1000
        self.default_model = knowledge_version(self.kb)

    def allows(self, model: str) -> bool:
        return model == self.default_model

    def answer(self, question: str) -> str:
        match = self.kb.search(question)
        return match.entry.answer if match else NO_MATCH_REPLY

    def stream(self, messages: list[dict], model: str, usage: dict | None = None) -> Iterator[str]:
        question = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
        deltas = split_deltas(self.answer(question))
        if usage is not None:
            usage["completion_tokens"] = len(deltas)
        return self._paced(deltas)

    def _paced(self, deltas: list[str]) -> Iterator[str]:
        # Word by word, at a pace people can read, so the offline path streams like an LLM.
        for delta in deltas:
            if self.delay:
                gevent.sleep(self.delay)
            yield delta
