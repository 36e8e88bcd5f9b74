"""Incremental sentence splitter: LLM text deltas in, speakable sentences out.

Each sentence goes to text-to-speech the moment it is known complete, so the splitter never
waits for more text than it needs: an ordinary sentence is complete as soon as the whitespace
after its end mark arrives. Only a few ambiguous abbreviations ("etc.", "a.m.", "No.") need the
next non-space character to decide.

Feeding a text in any pieces gives the same sentences as feeding it whole: every decision is
taken only once all the characters it depends on have arrived.
"""
from __future__ import annotations

import re

_END_MARKS = ".!?"
# Closing quotes, brackets and markdown emphasis that may follow an end mark: `."` `.)` `.**`
_CLOSERS = "\"'”’»)]}*_"
_OPENERS = "\"'“‘«([{*_"

# A period after these never ends a sentence.
_NEVER_END = frozenset({
    "dr", "mr", "mrs", "ms", "prof", "st", "mt", "vs", "e.g", "i.e", "u.s", "u.k", "cf",
    "approx", "incl", "fig", "dept", "ca",
})
# These often end a sentence too ("at 8 a.m. Then..."): decided by the next character.
_END_IF_CAPITAL = frozenset({"etc", "a.m", "p.m", "jr", "sr", "inc", "ltd", "co"})
# "No. 5" is "number 5", but "No. You should not..." is an answer.
_END_UNLESS_DIGIT = frozenset({"no", "nos", "vol", "pp"})
_DOTTED_ACRONYM = re.compile(r"(?:[a-z]\.)+[a-z]")  # p.a.d, u.s.a (final dot excluded)

_LEADING_MARKERS = re.compile(r"^(?:\s*(?:#{1,6}(?=\s|$)|>|[-*+•](?=\s)|\d{1,3}[.)](?=\s)))+")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)\s]*\)")
_EMPHASIS_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_+|_+(?![A-Za-z0-9])")
_HAS_LETTER = re.compile(r"[^\W\d_]")
_HAS_DIGIT = re.compile(r"\d")

_WAIT = object()  # a decision needs characters that have not arrived yet

# A sentence longer than this is hard to follow when spoken, and it delays the first audio: it is
# cut at a comma, semicolon or colon, or before a conjunction, as near its middle as possible.
MAX_SPOKEN_CHARS = 160
_MIN_PART_CHARS = 25
_CUT = re.compile(r"(?<=[,;:])\s+(?=\S)|\s+(?=(?:and|but|or|so|because|which|while|then)\s)", re.I)


def split_long(text: str, max_chars: int = MAX_SPOKEN_CHARS) -> list[str]:
    """Cut an over-long sentence into parts of at most max_chars where the language allows."""
    if len(text) <= max_chars:
        return [text]
    middle = len(text) / 2
    cuts = [m for m in _CUT.finditer(text)
            if m.start() >= _MIN_PART_CHARS and len(text) - m.end() >= _MIN_PART_CHARS]
    if not cuts:
        return [text]  # no place to breathe: better one long part than a broken phrase
    # prefer a punctuation cut; among those of one kind, the one nearest the middle
    best = min(cuts, key=lambda m: (text[m.start() - 1] not in ",;:", abs(m.start() - middle)))
    return split_long(text[:best.start()], max_chars) + split_long(text[best.end():], max_chars)


def clean_markdown(text: str) -> str:
    """Remove markdown that should not be spoken (list markers, headings, emphasis, links)."""
    text = _LINK.sub(r"\1", text)
    text = _LEADING_MARKERS.sub("", text)
    text = text.replace("*", "").replace("`", "")
    text = _EMPHASIS_UNDERSCORE.sub("", text)
    return " ".join(text.split())


class SentenceSplitter:
    """Feed text deltas; get back the sentences completed so far, cleaned and in order.

    A fragment shorter than min_chars, or with digits but no letters ("1." on its own line),
    is spoken together with the next one; fragments with neither ("---") are dropped. A sentence
    longer than max_chars is cut into shorter parts (split_long); None keeps sentences whole.
    """

    def __init__(self, min_chars: int = 1, max_chars: int | None = MAX_SPOKEN_CHARS):
        self.min_chars = min_chars
        self.max_chars = max_chars
        self._buf = ""    # text of the current, unfinished sentence onwards
        self._scan = 0    # where to resume looking for a boundary in _buf
        self._held = ""   # a fragment too short to be spoken alone, waiting for the next one

    def feed(self, delta: str) -> list[str]:
        self._buf += delta
        out: list[str] = []
        while True:
            cut = self._next_boundary()
            if cut is None:
                return out
            end, resume = cut
            self._emit(self._buf[:end], out)
            self._buf = self._buf[resume:].lstrip()
            self._scan = 0

    def flush(self) -> list[str]:
        out: list[str] = []
        self._emit(self._buf, out)
        rest = clean_markdown(self._held)
        if _HAS_LETTER.search(rest):
            out.append(rest)
        self._buf, self._scan, self._held = "", 0, ""
        return out

    def _emit(self, raw: str, out: list[str]):
        if not _HAS_LETTER.search(raw) and not _HAS_DIGIT.search(raw):
            return  # rules, fences, stray markers: nothing to say
        if self._held:
            raw = self._held + "\n" + raw
            self._held = ""
        text = clean_markdown(raw)
        if not text:
            return
        if not _HAS_LETTER.search(text) or len(text) < self.min_chars:
            # "1." alone (a list number on its own line) or too short: speak it with the next one.
            self._held = raw
            return
        out.extend(split_long(text, self.max_chars) if self.max_chars else [text])

    def _next_boundary(self):
        """(end of sentence, start of the rest) for the first boundary in _buf, or None."""
        buf, n = self._buf, len(self._buf)
        i = self._scan
        while i < n:
            c = buf[i]
            if c == "\n":
                return i, i + 1
            if c in _END_MARKS:
                verdict = self._end_mark(i)
                if verdict is _WAIT:
                    self._scan = i
                    return None
                if verdict is not None:
                    return verdict, verdict
            i += 1
        self._scan = n
        return None

    def _end_mark(self, i: int):
        """Index just after the sentence ending at mark buf[i]; None if no end here; or _WAIT."""
        buf, n = self._buf, len(self._buf)
        j = i + 1
        while j < n and buf[j] in _CLOSERS:
            j += 1
        if j >= n:
            return _WAIT
        if not buf[j].isspace():
            return None  # 2.5 mg, P.A.D, www.x.org, "?!": the sentence goes on
        if buf[i] != ".":
            return j
        if i > 0 and buf[i - 1] == ".":
            return None  # an ellipsis: "Well... maybe" goes on (a newline still ends it)
        rule = self._abbreviation_rule(i)
        if rule is None:
            return j
        k = j
        while k < n and buf[k].isspace() and buf[k] != "\n":
            k += 1
        if k < n and buf[k] == "\n":
            return j
        if rule == "never":
            return None
        if k >= n:
            return _WAIT
        nxt = buf[k]
        if rule == "capital":
            return j if nxt.isupper() else None
        return None if nxt.isdigit() else j  # "digit" rule

    def _abbreviation_rule(self, i: int):
        start = i
        while start > 0 and not self._buf[start - 1].isspace():
            start -= 1
        token = self._buf[start:i].lstrip(_OPENERS).casefold()
        if token in _NEVER_END or (len(token) == 1 and token.isalpha()):
            return "never"  # titles, e.g./i.e., initials ("John F. Kennedy")
        if token in _END_IF_CAPITAL or _DOTTED_ACRONYM.fullmatch(token):
            return "capital"  # "I have P.A.D. It hurts" ends; "P.A.D. is common" goes on
        if token in _END_UNLESS_DIGIT:
            return "digit"
        return None
