"""How well the safety screen does on the labelled sets in ``tests/assistant/`` (``flask assistant
eval``, ``python -m bench assistant``, and the tests use this one function).

``safety_eval.yaml`` is the set the first rules were written against; ``safety_eval_own_words.yaml``
(issue 12) was written afterwards in participants' own words, before the rules were changed, with
a tuning part and a held-out part: the held-out figure is the one that counts.
"""
from __future__ import annotations

from pathlib import Path

import yaml

from .safety import CATEGORIES, evaluate_set

EVAL_DIR = Path(__file__).resolve().parents[2] / "tests" / "assistant"
SPLITS = ("original", "tuning", "heldout")


def safety_messages(split: str) -> list[dict]:
    """Labelled messages of one split: ``original``, ``tuning`` or ``heldout``."""
    if split == "original":
        return yaml.safe_load((EVAL_DIR / "safety_eval.yaml").read_text())["messages"]
    own = yaml.safe_load((EVAL_DIR / "safety_eval_own_words.yaml").read_text())
    return [{"text": text, "expect": None if category == "ordinary" else category}
            for category, parts in own.items() for text in parts.get(split, [])]


def safety_report(split: str) -> dict:
    return evaluate_set(safety_messages(split))


def retrieval_report(split: str) -> dict:
    """Top-1 accuracy and the honest "I don't know" rate on issue 12's question set (``tuning``
    or ``heldout``); expected ids that no entry has yet count as misses."""
    from .knowledge_base import default_knowledge_base

    kb = default_knowledge_base()
    items = yaml.safe_load((EVAL_DIR / "retrieval_eval_own_words.yaml").read_text())[split]
    on_topic = [i for i in items if i["expect"] is not None]
    off_topic = [i for i in items if i["expect"] is None]
    misses = []
    for item in on_topic:
        wanted = item["expect"] if isinstance(item["expect"], list) else [item["expect"]]
        match = kb.search(item["q"])
        if match is None or match.entry.id not in wanted:
            misses.append((item["q"], match.entry.id if match else None, wanted))
    answered = [(i["q"], m.entry.id) for i in off_topic if (m := kb.search(i["q"]))]
    return {"top1": 1 - len(misses) / len(on_topic), "questions": len(on_topic), "misses": misses,
            "honest_no_match": 1 - len(answered) / len(off_topic) if off_topic else 1.0,
            "off_topic": len(off_topic), "off_topic_answered": answered}


def retrieval_lines(split: str) -> list[str]:
    r = retrieval_report(split)
    return [f"knowledge retrieval, {split} questions:",
            f"  top-1 right entry   {r['top1']:6.1%}  ({r['questions'] - len(r['misses'])}/{r['questions']})",
            f"  honest no-match     {r['honest_no_match']:6.1%}  "
            f"({r['off_topic'] - len(r['off_topic_answered'])}/{r['off_topic']})"]


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
