"""How long the assistant's pre-LLM steps take (knowledge-base load and search, the safety check),
and how well retrieval and the safety screen do on their labelled sets, per split."""
from __future__ import annotations

import time

from paco.assistant.evaluation import HELD_BACK, load_items, retrieval_report
from paco.assistant.knowledge_base import KnowledgeBase
from paco.assistant.safety import check_message
from paco.assistant.safety_evaluation import SPLITS as SAFETY_SPLITS
from paco.assistant.safety_evaluation import safety_messages, safety_report

from .stats import summary


def _ms(fn, *args) -> float:
    start = time.perf_counter()
    fn(*args)
    return (time.perf_counter() - start) * 1000


def run(repeat: int = 20) -> dict:
    loads = [_ms(KnowledgeBase.load) for _ in range(5)]
    kb = KnowledgeBase.load()
    questions = [item.question for item in load_items("all")]  # every paraphrase set, on- and off-topic
    messages = [m["text"] for split in SAFETY_SPLITS for m in safety_messages(split)]
    check_message("warm up")  # the rules compile once per process
    searches = [_ms(kb.search, q) for _ in range(repeat) for q in questions]
    checks = [_ms(check_message, m) for _ in range(repeat) for m in messages]
    return {"kb_entries": len(kb.entries), "kb_load_ms": summary(loads),
            "search_ms": summary(searches), "safety_check_ms": summary(checks),
            "retrieval": {split: _retrieval(retrieval_report(split, kb)) for split in ("tuning", *HELD_BACK)},
            "safety": {split: _figures(safety_report(split)) for split in SAFETY_SPLITS}}


def _retrieval(report: dict) -> dict:
    return {"top1_accuracy": report["top1_accuracy"],
            "top1": f"{report['top1_correct']}/{report['on_topic']}",
            "no_match_rate": report["no_match_rate"],
            "no_match": f"{report['no_match_correct']}/{report['off_topic']}"}


def _figures(report: dict) -> dict:
    figures = {c: round(b["recall"], 3) for c, b in report.items() if c != "ordinary"}
    figures["false_alarm_rate"] = round(report["ordinary"]["rate"], 3)
    return figures
