"""How hard a reply is to read: the Flesch-Kincaid grade of an answer, for checking and logging.

PaCo's reviewed entries are written at grade 6 or below; an LLM's grounded answer is checked the
same way, so a reply written above that level can be logged, stored beside the message and shown
to investigators. textstat does the counting.
"""

from __future__ import annotations

from dataclasses import dataclass

import textstat
from textstat.backend.counts import _count_syllables

MAX_GRADE = 6.0  # the level PaCo's answers are written for (issue 12)


# textstat 0.7.x looks English words up in NLTK's cmudict and, when it is missing, tries to
# download it at run time. PaCo must not reach the network for this (nor must its tests), so
# syllables come from pyphen, textstat's own fallback shipped in its wheel, for every word. Set
# once for the process, not around each call: grades are computed in pool threads (paco.offload).
_count_syllables.get_cmudict = lambda lang: None


def fk_grade(text: str) -> float:
    """Flesch-Kincaid grade of text (0.0 for text without words)."""
    if not any(ch.isalpha() for ch in text):
        return 0.0
    return float(textstat.flesch_kincaid_grade(text))


@dataclass(frozen=True)
class Readability:
    grade: float
    max_grade: float

    @property
    def ok(self) -> bool:
        return self.grade <= self.max_grade

    def as_dict(self) -> dict:
        return {"grade": self.grade, "max_grade": self.max_grade, "ok": self.ok}


def check_reply(text: str, max_grade: float = MAX_GRADE) -> Readability:
    """The grade of a reply and whether it is within max_grade, ready to log or store."""
    return Readability(grade=round(fk_grade(text), 1), max_grade=max_grade)
