"""PaCo's safety screen: runs on every participant message before any model sees it.

A message that describes an emergency, a crisis, an urgent problem or a plan to stop or change a
medicine gets a fixed, reviewed reply instead of a generated one, and the message is flagged.
The rules are data (safety_rules.yaml); this module normalises the text, applies them, and sets
aside matches that are negated ("no chest pain"), clearly in the past ("fainted back in 2019")
or general questions ("what are the signs of a stroke"). When unsure it flags: a needless
"call your care team" costs far less than a missed stroke.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping

import yaml
from rapidfuzz import fuzz, process

RULES_FILE = Path(__file__).with_name("safety_rules.yaml")
# When several rules match, the first category here wins.
CATEGORIES = ("emergency", "crisis", "urgent", "medication_change")


@dataclass(frozen=True)
class SafetyFlag:
    category: str
    rule_id: str
    reply: str
    layer: str = "rules"  # which layer decided: "rules" (this screen) or "classifier" (the LLM's)


@dataclass(frozen=True)
class _Pattern:
    regex: re.Pattern
    requires: re.Pattern | None = None
    unless: re.Pattern | None = None


@dataclass(frozen=True)
class _Rule:
    id: str
    category: str
    reply: str
    screens: frozenset
    patterns: tuple[_Pattern, ...]
    unless: re.Pattern | None


# ------------------------------------------------------------------ text normalisation

_CONTRACTIONS = [
    (r"\bcan\s*not\b", "cant"), (r"\bdo not\b", "dont"), (r"\bdoes not\b", "doesnt"),
    (r"\bdid not\b", "didnt"), (r"\bhave not\b", "havent"), (r"\bhas not\b", "hasnt"),
    (r"\bis not\b", "isnt"), (r"\bare not\b", "arent"), (r"\bwas not\b", "wasnt"),
    (r"\bwill not\b", "wont"), (r"\bi am\b", "im"), (r"\bmy self\b", "myself"),
    (r"\bp a d\b", "pad"),
]
_CONTRACTION_RES = [(re.compile(p), r) for p, r in _CONTRACTIONS]

# Misspellings seen in real typing, folded before the rules run.
_SPELLING = {
    "pian": "pain", "pane": "pain", "chesst": "chest", "chets": "chest", "chst": "chest",
    "breth": "breath", "brethe": "breathe", "breathin": "breathing", "brething": "breathing",
    "breahting": "breathing", "breating": "breathing", "bleding": "bleeding", "bleeing": "bleeding",
    "bleading": "bleeding", "bledding": "bleeding", "bleedin": "bleeding", "bloood": "blood",
    "stroak": "stroke", "strok": "stroke", "stroek": "stroke", "feinted": "fainted",
    "fanted": "fainted", "faintd": "fainted", "numbb": "numb", "numm": "numb", "numbe": "numb",
    "sucide": "suicide", "suiside": "suicide", "suicde": "suicide", "suicidle": "suicidal",
    "sucidal": "suicidal", "suicidel": "suicidal", "myslef": "myself", "kms": "kill myself",
    "clopidogral": "clopidogrel", "clopidigrel": "clopidogrel", "plavics": "plavix",
    "asprin": "aspirin", "aspirn": "aspirin", "asperin": "aspirin", "statn": "statin",
    "staten": "statin", "lipiter": "lipitor", "zarelto": "xarelto", "xeralto": "xarelto",
    "pils": "pills", "medicin": "medicine", "medecine": "medicine", "tablits": "tablets",
    "meds.": "meds", "presure": "pressure", "preasure": "pressure", "sholder": "shoulder",
    "weeak": "weak", "dizy": "dizzy", "swolen": "swollen", "swelled": "swollen",
    "toung": "tongue", "tounge": "tongue", "throte": "throat", "vomitting": "vomiting",
    "stoped": "stopped", "stopt": "stopped", "quiting": "quitting", "skiping": "skipping",
}


# Words the rules hinge on, where a typo must not hide a red flag ("cheast", "bleeeding").
_VOCABULARY = (  # nouns and names only: folding everyday verbs ("stepped" -> "stopped") misleads
    "chest", "breathing", "bleeding", "stroke", "swollen", "fainted", "suicide", "suicidal",
    "clopidogrel", "cilostazol", "aspirin", "statin", "xarelto", "plavix", "eliquis", "tongue", "throat",
    "unconscious", "collapsed", "vomiting", "squeezing", "tightness", "slurring", "incision", "catheter",
)


@functools.lru_cache(maxsize=4096)
def _near_miss(word: str) -> str:
    """A misspelling of a word the rules need, folded to it (rapidfuzz; only words of five letters
    or more, at 88 % similarity, so that short everyday words are never changed)."""
    if len(word) < 5 or word in _VOCABULARY:
        return word
    match = process.extractOne(word, _VOCABULARY, scorer=fuzz.ratio, score_cutoff=88)
    return match[0] if match else word


def normalise(text: str) -> str:
    """Lower case, apostrophes folded ("can't" -> "cant"), misspellings fixed, one space."""
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'").replace("'", "")
    text = re.sub(r"p\.a\.d\.?", "pad", text)
    text = re.sub(r"\bdie(?=\s+(?:my|his|her|the|their)\s+(?:hair|beard|clothes|shirt)\b)", "dye", text)
    text = re.sub(r"[^a-z0-9.!?;\n]+", " ", text)
    text = re.sub(r"(?<=\d)\.(?=\d)", "", text)
    for pattern, repl in _CONTRACTION_RES:
        text = pattern.sub(repl, text)
    words = [_SPELLING.get(w) or _near_miss(w) for w in re.findall(r"[a-z0-9]+|[.!?;\n]", text)]
    return re.sub(r" (?=[.!?;\n])", "", " ".join(words)).strip()


# "quick question about my statin oh and my chest hurts": a second thing told in the same breath
# is its own clause, so the first one's "question about" does not make it hypothetical.
_CLAUSE_SPLIT = re.compile(
    r"[.!?;\n]+|\s(?:but|however|although|though|oh\s+and|and\s+also|also|btw|by\s+the\s+way)\s")

# ------------------------------------------------------------------ screens

# A negation right before the match, with only small filler words between ("i dont really
# have any chest pain"), or a negated list ("no fever or chest pain").
_NEGATION = re.compile(
    r"\b(?:no|not|never|without|dont|didnt|doesnt|havent|hasnt|isnt|arent|wasnt|werent|nor|"
    r"denies|deny|none|free\s+of|free\s+from|no\s+longer)"
    r"(?:(?:\s+(?:any|a|an|have|had|has|having|been|feel|felt|feeling|get|got|getting|experienced"
    r"|experiencing|experience|the|some|ever|really|signs?|of|more|notice|noticed|noticing|want"
    r"|wanna|to|plan|planning|going|gonna|think|thought|would|will|much|such|real|serious|further"
    r"|bad|severe|major|like|seen|see|sign|symptoms?|that|this|current|currently|anymore|even)){0,5}"
    r"|(?:\s+\w+){0,4}\s+(?:or|nor))\s*$"
)
_PAST = re.compile(
    r"\b(?:last\s+(?:year|month|week|spring|summer|fall|autumn|winter|christmas|time)"
    r"|(?:\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|several|few|couple(?:\s+of)?"
    r"|many)\s+(?:years?|months?|weeks?)\s+(?:ago|back|before)|years\s+ago|months\s+ago|weeks\s+ago"
    r"|back\s+in|in\s+(?:19|20)\d\d|when\s+i\s+was\s+(?:young|younger|a\s+kid|a\s+child|little)"
    r"|as\s+a\s+(?:teen\w*|kid|child|boy|girl|young\s+\w+)"
    r"|used\s+to|in\s+the\s+past|long\s+time\s+ago|long\s+ago|years\s+back|history\s+of|once\s+before"
    r"|before\s+my\s+(?:surgery|stent|bypass|operation|diagnosis))\b"
)
# Anything that says "this is happening now" defeats the past screen for the whole message.
_PRESENT = re.compile(
    r"\b(?:now|today|tonight|this\s+(?:morning|afternoon|evening|week)|currently|again|at\s+the"
    r"\s+moment|started|starting|its\s+back|came\s+back|coming\s+back|is\s+back|happening|still|since)\b"
    # a change told in the present ("it looks deeper", "is getting bigger") is happening now
    r"|\b(?:getting|looks|look|is|are)\s+(?:\w+\s+)?(?:worse|deeper|bigger|larger|darker|redder|wider)\b"
    r"|\b(?:wasnt|werent)\s+there|\b(?:is|thats|which\s+is)\s+new\b"
)
_NOW = re.compile(r"\b(?:right\s+now|now|currently|at\s+the\s+moment|today|tonight|this\s+morning)\b")
_IF = re.compile(r"\b(?:(\w+)\s+)?(?:if|in\s+case)\b")
_IF_NOT_HYPOTHETICAL = {"know", "sure", "wonder", "wondering", "tell", "see", "check", "ask",
                        "unsure", "certain", "as", "asking"}
_HYPOTHETICAL_PREFIX = re.compile(
    r"\b(?:(?:warning\s+)?(?:signs?|symptoms?)\s+(?:of|for)"
    r"|how\s+(?:do|can|would|will|should|could)\s+(?:i|you|we|one|someone|people|a\s+person)\s+"
    r"(?:know|tell|recognize|recognise|spot|notice)|how\s+to\s+(?:tell|know|recognize|spot)"
    r"|what\s+causes|(?:risk|risks|chance|chances|odds)\s+(?:of|for)|prevent\w*|avoid\w*|protect"
    r"|(?:worried|afraid|scared|frightened|nervous|concerned)\s+(?:about|of)\s+(?:getting|having|a|an)"
    r"|(?:learn|read|know|tell\s+me|teach\s+me|explain|information|info|questions?)\s+(?:more\s+)?(?:about|on)"
    r"|what\s+(?:to|should|do|would)\s+(?:i\s+|you\s+|we\s+|someone\s+|people\s+)?do\s+(?:when|in\s+case)"
    r"|when\s+(?:should|do|would)\s+(?:i|you|someone|people)\s+(?:call|go|see|get|worry|seek)"
    r"|why\s+(?:would|do|does|can)\s+(?:someone|people|a\s+person|you|anyone))\b"
)
_HYPOTHETICAL_CLAUSE = re.compile(
    r"^(?:what|how)\s+(?:does|do|would|is|are|can)\b.*\b(?:look|looks|feel|feels|sound|sounds)\s+like\b"
)
_HYPOTHETICAL_SUFFIX = re.compile(
    r"^\W*(?:is\s+|are\s+|be\s+)?(?:a\s+|an\s+|the\s+)?(?:common\s+|early\s+|warning\s+)?"
    r"(?:sign|signs|symptom|symptoms)\s+of\b"
    # "chest pain risk", "the chest pain leaflet": the words name a topic, not what is happening
    r"|^\W*(?:risks?|chances?|odds|leaflet|pamphlet|booklet|handout|brochure|article|video|poster|class|section)\b"
)


def _hypothetical(clause: str, start: int, end: int) -> bool:
    if _NOW.search(clause):
        return False
    prefix = clause[:start]
    for m in _IF.finditer(prefix):
        if m.group(1) not in _IF_NOT_HYPOTHETICAL:
            return True
    return bool(
        _HYPOTHETICAL_PREFIX.search(prefix)
        or _HYPOTHETICAL_CLAUSE.search(clause)
        or _HYPOTHETICAL_SUFFIX.search(clause[end:])
    )


# A match that ends on a symptom ("the catheter site ... bleeding") is set aside when that symptom
# is the negated one ("the catheter site is a little bruised, no bleeding").
_SYMPTOM_LAST = re.compile(
    r"(?:\w*bleed\w*|blood|swell\w*|swollen|pain|pains|painful|pus|fever|redness|numb\w*|clots?|oozing)$")


def _negated(clause: str, m: re.Match) -> bool:
    if _NEGATION.search(clause[: m.start()]):
        return True
    last = re.search(r"\w+$", m.group())
    return bool(last and last.start() > 0 and _SYMPTOM_LAST.match(last.group())
                and _NEGATION.search(clause[: m.start() + last.start()]))


def _set_aside(screens: frozenset, clause: str, m: re.Match, present: bool) -> bool:
    if "negation" in screens and _negated(clause, m):
        return True
    if "past" in screens and not present and _PAST.search(clause):
        return True
    return "hypothetical" in screens and _hypothetical(clause, m.start(), m.end())


# ------------------------------------------------------------------ rules

def _compile(pattern: str, macros: Mapping[str, str], where: str) -> re.Pattern:
    for _ in range(3):  # macros may use macros
        pattern = re.sub(r"\{([A-Z0-9_]+)\}", lambda m: macros[m.group(1)], pattern)
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"{RULES_FILE.name}: bad pattern in {where}: {exc}") from exc


@functools.lru_cache(maxsize=1)
def category_replies(path: Path = RULES_FILE) -> dict[str, str]:
    """The reviewed fixed reply of each category (what a flag from any layer answers)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {category: " ".join(text.split()) for category, text in data["replies"].items()}


@functools.lru_cache(maxsize=1)
def load_rules(path: Path = RULES_FILE) -> tuple[_Rule, ...]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    macros = {k: " ".join(v.split()) for k, v in data["macros"].items()}
    rules = []
    for raw in data["rules"]:
        where, category = raw["id"], raw["category"]
        if category not in CATEGORIES or not raw["id"].startswith(category + "."):
            raise ValueError(f"{path.name}: rule {where} has a bad category or id")
        c = functools.partial(_compile, macros=macros, where=where)
        patterns = [_Pattern(c(p)) for p in raw.get("patterns", ())]
        patterns += [
            _Pattern(c(p["pattern"]), c(p["requires"]) if "requires" in p else None,
                     c(p["unless"]) if "unless" in p else None)
            for p in raw.get("conditional", ())
        ]
        rules.append(_Rule(
            id=raw["id"], category=category,
            reply=" ".join(raw.get("reply", data["replies"][category]).split()),
            screens=frozenset(data["categories"][category]["screens"]),
            patterns=tuple(patterns),
            unless=c(raw["unless"]) if "unless" in raw else None,
        ))
    return tuple(sorted(rules, key=lambda r: CATEGORIES.index(r.category)))


def _rule_matches(rule: _Rule, clauses: list[str], present: bool) -> bool:
    for clause in clauses:
        if rule.unless is not None and rule.unless.search(clause):
            continue
        for p in rule.patterns:
            if p.requires is not None and not p.requires.search(clause):
                continue
            if p.unless is not None and p.unless.search(clause):
                continue
            for m in p.regex.finditer(clause):
                if not _set_aside(rule.screens, clause, m, present):
                    return True
    return False


def check_message(text: str) -> SafetyFlag | None:
    """The fixed reply for a message that must not go to a model, or None."""
    norm = normalise(text or "")
    if not norm:
        return None
    clauses = [c.strip() for c in _CLAUSE_SPLIT.split(norm) if c and c.strip()]
    present = bool(_PRESENT.search(norm))
    for rule in load_rules():
        if _rule_matches(rule, clauses, present):
            return SafetyFlag(category=rule.category, rule_id=rule.id, reply=rule.reply)
    return None


def evaluate_set(messages: Iterable[Mapping]) -> dict:
    """Recall per category and false-alarm rate over labelled messages.

    Each message is {"text": ..., "expect": category or None, "rule": optional rule id}.
    A message counts as caught only when flagged with its expected category.
    """
    report = {c: {"total": 0, "caught": 0, "misses": []} for c in CATEGORIES}
    ordinary = {"total": 0, "false_alarms": []}
    for item in messages:
        flag, expect = check_message(item["text"]), item.get("expect")
        if expect is None:
            ordinary["total"] += 1
            if flag is not None:
                ordinary["false_alarms"].append((item["text"], flag.rule_id))
            continue
        bucket = report[expect]
        bucket["total"] += 1
        if flag is not None and flag.category == expect:
            bucket["caught"] += 1
        else:
            bucket["misses"].append((item["text"], flag.rule_id if flag else None))
    for bucket in report.values():
        bucket["recall"] = bucket["caught"] / bucket["total"] if bucket["total"] else 1.0
    ordinary["rate"] = len(ordinary["false_alarms"]) / ordinary["total"] if ordinary["total"] else 0.0
    report["ordinary"] = ordinary
    return report
