"""Tests of PaCo's offline knowledge base and safety rules (no app, no database)."""

import contextlib

import textstat
from textstat.backend.counts import _count_syllables


@contextlib.contextmanager
def _without_cmudict():
    # textstat 0.7.x looks English words up in NLTK's cmudict and, when it is missing, tries to
    # download it at run time. Tests must not touch the network, so syllables come from pyphen
    # (textstat's own fallback, shipped as a wheel) for every word.
    saved = _count_syllables.get_cmudict
    _count_syllables.get_cmudict = lambda lang: None
    try:
        yield
    finally:
        _count_syllables.get_cmudict = saved


def fk_grade(text: str) -> float:
    """Flesch-Kincaid grade of text, computed by textstat without any download."""
    with _without_cmudict():
        return textstat.flesch_kincaid_grade(text)
