"""The emission time the OpenAI stand-in puts on each delta for the benchmarks.

Written in Unicode private-use characters, which are not letters, digits or spaces: the text PaCo
relays, stores, grades and speaks stays the prose it was. The first form, "<t:12345.678901>",
made every word a new word: the reply's reading-grade check then hyphenated each one afresh, a
quarter of a worker's CPU at 100 conversations that no real answer costs (BENCHMARKS.md, issue 16).
"""
from __future__ import annotations

import re

_DIGITS = "0123456789."
_START, _END = "\ue00b", "\ue00c"
_CODE = {c: chr(0xE000 + i) for i, c in enumerate(_DIGITS)}
_TEXT = {v: k for k, v in _CODE.items()}
_STAMP = re.compile(f"{_START}([\ue000-\ue00a]+){_END}")
_ESCAPED = re.compile(r"\\ue00b((?:\\ue00[0-9a])+)\\ue00c")  # the same inside ASCII-only JSON


def stamp(monotonic: float) -> str:
    return _START + "".join(_CODE[c] for c in f"{monotonic:.6f}") + _END


def stamps(text: str) -> list[float]:
    """Every emission time in a stretch of relayed text (or in a JSON frame of it)."""
    found = [float("".join(_TEXT[c] for c in run)) for run in _STAMP.findall(text)]
    for run in _ESCAPED.findall(text):
        found.append(float("".join(_TEXT[chr(int(code, 16))] for code in re.findall(r"\\u(e00[0-9a])", run))))
    return found
