"""How well the safety screen does on the labelled sets in ``tests/assistant/`` (``flask assistant
eval``, ``python -m bench assistant``, and the tests use this one function). Retrieval has its own
report in ``evaluation.py``.

``safety_eval.yaml`` is the set the first rules were written against; ``safety_eval_own_words.yaml``
(issue 12) was written afterwards in participants' own words, before the rules were changed, with
a tuning part and a held-out part. That held-out part has since been seen (its misses were fixed),
so ``safety_eval_heldout2.yaml`` was written, before the next round of rule changes, as a fresh
held-out set: ``heldout2`` is now the figure that counts.
"""
from __future__ import annotations

from pathlib import Path

import yaml

from .safety import CATEGORIES, evaluate_set

EVAL_DIR = Path(__file__).resolve().parents[2] / "tests" / "assistant"
SPLITS = ("original", "tuning", "heldout", "heldout2")
# Where each own-words split lives (same layout: category -> split -> messages).
_FILES = {"tuning": "safety_eval_own_words.yaml", "heldout": "safety_eval_own_words.yaml",
          "heldout2": "safety_eval_heldout2.yaml"}


def safety_messages(split: str) -> list[dict]:
    """Labelled messages of one split: ``original``, ``tuning``, ``heldout`` or ``heldout2``."""
    if split == "original":
        return yaml.safe_load((EVAL_DIR / "safety_eval.yaml").read_text())["messages"]
    if split not in _FILES:
        raise ValueError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
    own = yaml.safe_load((EVAL_DIR / _FILES[split]).read_text())
    return [{"text": text, "expect": None if category == "ordinary" else category}
            for category, parts in own.items() for text in parts.get(split, [])]


def safety_report(split: str) -> dict:
    return evaluate_set(safety_messages(split))


def safety_lines(split: str, report: dict | None = None) -> list[str]:
    """The report as lines a person reads: recall per category, then false alarms."""
    report = report or safety_report(split)
    lines = [f"safety screen, {split} messages:"]
    for category in CATEGORIES:
        b = report[category]
        lines.append(f"  {category:18s} recall {b['recall']:6.1%}  ({b['caught']}/{b['total']})")
    o = report["ordinary"]
    lines.append(f"  {'false alarms':18s} rate   {o['rate']:6.1%}  ({len(o['false_alarms'])}/{o['total']})")
    return lines
