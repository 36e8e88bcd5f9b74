"""How long the assistant's pre-LLM steps take: knowledge-base load and search, the safety check."""
from __future__ import annotations

import time
from pathlib import Path

import yaml

from paco.assistant.knowledge_base import KnowledgeBase
from paco.assistant.safety import check_message
from paco.assistant.safety_evaluation import SPLITS as SAFETY_SPLITS
from paco.assistant.safety_evaluation import safety_messages, safety_report

from .stats import summary

TESTS = Path(__file__).resolve().parent.parent / "tests" / "assistant"


def _ms(fn, *args) -> float:
    start = time.perf_counter()
    fn(*args)
    return (time.perf_counter() - start) * 1000


def run(repeat: int = 20) -> dict:
    loads = [_ms(KnowledgeBase.load) for _ in range(5)]
    kb = KnowledgeBase.load()
    questions = [q["q"] for q in yaml.safe_load((TESTS / "retrieval_eval.yaml").read_text())["questions"]]
    messages = [m["text"] for split in SAFETY_SPLITS for m in safety_messages(split)]
    check_message("warm up")  # the rules compile once per process
    searches = [_ms(kb.search, q) for _ in range(repeat) for q in questions]
    checks = [_ms(check_message, m) for _ in range(repeat) for m in messages]
    return {"kb_entries": len(kb.entries), "kb_load_ms": summary(loads),
            "search_ms": summary(searches), "safety_check_ms": summary(checks),
            "safety": {split: _figures(safety_report(split)) for split in SAFETY_SPLITS}}


def _figures(report: dict) -> dict:
    figures = {c: round(b["recall"], 3) for c, b in report.items() if c != "ordinary"}
    figures["false_alarm_rate"] = round(report["ordinary"]["rate"], 3)
    return figures
