"""PaCo's answers to the barriers named in check-ins: one for each reason, drawn from reviewed
knowledge-base entries, sourced, short enough to hear and written at PaCo's reading level."""
from __future__ import annotations

import re

import pytest

from paco.assistant import barriers
from paco.assistant.knowledge_base import KnowledgeBaseError, default_knowledge_base
from paco.assistant.readability import MAX_GRADE, fk_grade
from paco.models import BARRIERS

from .test_knowledge import CARE_TEAM, SOURCE_DOMAINS


@pytest.mark.parametrize("reason", BARRIERS)
def test_each_barrier_has_reviewed_readable_guidance(reason):
    guidance = barriers.default_guidance()[reason]
    host = guidance.source_url.split("/")[2]
    assert any(host == d or host.endswith("." + d) for d in SOURCE_DOMAINS), host
    kb = default_knowledge_base()
    assert all(kb.get(entry) for entry in guidance.entries)
    words = len(guidance.answer.split())
    assert 40 <= words <= 110, f"{reason}: {words} words"
    assert fk_grade(guidance.answer) <= MAX_GRADE
    assert not re.search(r"\bPAD\b", guidance.answer)
    assert guidance.answer.startswith("Thank you")  # the participant was honest: say so first
    assert CARE_TEAM.search(guidance.answer)
    assert guidance.model.startswith(f"barrier.{reason}:")


def test_a_broken_file_is_refused_by_name(tmp_path):
    good = barriers.BARRIERS_FILE.read_text()
    cases = {
        "unknown entry": good.replace("entries: [refills]", "entries: [no_such_entry]"),
        "missing reason": good.replace("reason: ran_out", "reason: forgot"),
        "empty title": good.replace('title: "When you run out of medicine"', 'title: ""'),
    }
    for name, text in cases.items():
        assert text != good, name
        path = tmp_path / f"{name}.yaml"
        path.write_text(text)
        with pytest.raises(KnowledgeBaseError):
            barriers.load(path)
