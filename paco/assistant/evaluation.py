"""How well the offline knowledge base answers questions in participants' own words.

`retrieval_report(split)` scores `KnowledgeBase.search` against the paraphrase sets in
tests/assistant/: `tuning` is what retrieval was tuned on (the first set plus two thirds of the
second), `heldout` is the third of the second set kept aside while tuning (seen since: its totals
were run twice), and `heldout2` (paraphrase_eval_heldout2.yaml) was written before the next
round of retrieval changes and is not tuned on, so its figure is the one that says how retrieval
does on messages nobody tuned it for. `flask assistant eval` and `python -m bench assistant`
print them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from .knowledge_base import KnowledgeBase, default_knowledge_base

EVAL_DIR = Path(__file__).resolve().parents[2] / "tests" / "assistant"
SPLITS = ("tuning", "heldout", "heldout2", "all")
HELD_BACK = ("heldout", "heldout2")  # splits reported separately from tuning
NONE = "none"  # the label for "PaCo should say it has no information"


@dataclass(frozen=True)
class EvalItem:
    question: str
    expected: tuple[str, ...]  # entry ids that are a right answer, or (NONE,)
    split: str

    @property
    def off_topic(self) -> bool:
        return self.expected == (NONE,)


def _expected(value) -> tuple[str, ...]:
    if value is None:
        return (NONE,)
    return tuple(value) if isinstance(value, list) else (str(value),)


def load_items(split: str = "all", directory: Path = EVAL_DIR) -> list[EvalItem]:
    """The labelled messages of one split (see the module docstring)."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
    first = yaml.safe_load((directory / "retrieval_eval.yaml").read_text(encoding="utf-8"))
    items = [EvalItem(q["q"], _expected(q["expect"]), "tuning") for q in first["questions"]]
    items += [EvalItem(q, (NONE,), "tuning") for q in first["off_topic"]]
    second = yaml.safe_load((directory / "paraphrase_eval.yaml").read_text(encoding="utf-8"))
    items += [EvalItem(i["q"], _expected(i["expect"]), i["split"]) for i in second["items"]]
    third = yaml.safe_load((directory / "paraphrase_eval_heldout2.yaml").read_text(encoding="utf-8"))
    items += [EvalItem(i["q"], _expected(i["expect"]), i["split"]) for i in third["items"]]
    return items if split == "all" else [i for i in items if i.split == split]


def _rate(hits: int, total: int) -> float | None:
    return round(hits / total, 4) if total else None


def retrieval_report(split: str = "heldout", kb: KnowledgeBase | None = None) -> dict:
    """Top-1 accuracy on on-topic messages and the honest "I don't know" rate on off-topic ones.

    Returns {"split", "entries", "on_topic", "top1_correct", "top1_accuracy", "unanswered",
    "off_topic", "no_match_correct", "no_match_rate", "misses": [{"q", "expected", "got"}]},
    where "got" is the entry id PaCo answered with, or "none".
    """
    kb = kb or default_knowledge_base()
    items = load_items(split)
    for item in items:
        for entry_id in item.expected:
            if entry_id != NONE:
                kb.get(entry_id)  # a label naming no entry is a broken eval set, not a miss
    misses = []
    on_topic = right = unanswered = off_topic = honest = 0
    for item in items:
        match = kb.search(item.question)
        got = match.entry.id if match else NONE
        if item.off_topic:
            off_topic += 1
            honest += got == NONE
        else:
            on_topic += 1
            right += got in item.expected
            unanswered += got == NONE
        if got not in item.expected:
            misses.append({"q": item.question, "expected": list(item.expected), "got": got})
    return {
        "split": split, "entries": len(kb.entries),
        "on_topic": on_topic, "top1_correct": right, "top1_accuracy": _rate(right, on_topic),
        "unanswered": unanswered,
        "off_topic": off_topic, "no_match_correct": honest, "no_match_rate": _rate(honest, off_topic),
        "misses": misses,
    }
