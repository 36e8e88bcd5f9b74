"""PaCo's offline knowledge base: reviewed P.A.D. and medication entries, one YAML file each.

The curated responder answers only from these entries, so loading is strict: a bad file stops
the load with a message naming the file, rather than shipping a half-checked answer to a patient.
Retrieval is BM25 (rank_bm25) over each entry's questions and title, with the answer text as a
weaker second signal; a query-side tokenizer folds brand names, lay words and misspellings onto
the words the entries use.
"""

from __future__ import annotations

import datetime
import functools
import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from rank_bm25 import BM25Okapi

KNOWLEDGE_DIR = Path(__file__).with_name("knowledge")
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C parser when PyYAML has it

NO_MATCH_REPLY = "I don't have information about that. Please ask your care team."
ALLOWED_TAGS = frozenset({
    "medications", "side_effects", "walking_exercise", "smoking", "diet", "foot_care",
    "symptoms", "adherence_strategies", "study", "interactions", "missed_doses",
    "tests_procedures", "risk_factors", "costs",
})
_REQUIRED_KEYS = {"title", "questions", "answer", "source", "reviewed_on", "tags"}
_MIN_QUESTIONS = 4

# Answer words count less than the ways people ask: answers share many words across entries.
ANSWER_WEIGHT = 0.3
# Below this BM25 score the best entry is a guess; "I don't know" is safer. Tuned on
# tests/assistant/retrieval_eval.yaml (paraphrases must pass, off-topic must fall below).
MIN_SCORE = 2.5
# An off-topic question often shares one common word with some entry ("what *time* does the
# bank open"). So the best entry must also cover this share of the question's information,
# counted in IDF; a word the index has never seen weighs UNKNOWN_IDF_SHARE of the rarest word.
MIN_COVERAGE = 0.4
UNKNOWN_IDF_SHARE = 0.75
# A score this high means a rare word of the entry matched strongly: trust it even when the
# question carries many words the index does not know ("aspirin on an empty stomach").
STRONG_SCORE = 5.0
# ...but one strong word is not enough when it is a small part of the question: "who won the
# football game last night" matched the rest-pain entry on "night" alone (coverage 0.25).
STRONG_MIN_COVERAGE = 0.3

_STOP_WORDS = frozenset("""
a about above actually after again all also am an and any anything are as at be been before being
below between both but by can could daily day days did do does doing done down during each else
even ever every everyday few for from further get gets getting go going gonna got had has have
having he her here hers him his how i if im in into is it its ive just know let lets like ll me
might more most much must my myself need no nor not now of off ok okay on once one only or other
our out over own please pls really right same say she should so some someone something still such
sure take taken takes taking tell than that thats the their them then there these they thing things
this those through to too took u under until up us very wanna want was way we well were what whats
when where which while who why will wish with without would yes yet you your youre
""".split())

# Phrases first (they span words), then single words. Both sides of the index go through this,
# so the entries may use either form.
_PHRASES = [
    (r"\bp\s*\.?\s*a\s*\.?\s*d\b\.?|\bperipheral (?:artery|arterial|vascular) disease\b|\bpvd\b", " pad "),
    (r"\bblood thinn?ers?\b|\bthinn?ers?\b|\banti ?platelets?\b|\banti ?coagulants?\b", " bloodthinner "),
    (r"\bpill (?:box|boxes|case|organi[sz]ers?)\b|\bpillbox(?:es)?\b|\bdosette\b", " pillorganiser "),
    (r"\bside ?effects?\b|\breactions?\b", " sideeffect "),
    (r"\bhigh blood pressure\b|\bblood pressure\b|\bhypertension\b|\bbp\b", " bloodpressure "),
    (r"\bblood sugar\b|\bsugars?\b|\bdiabet\w*|\bglucose\b|\ba1c\b", " diabetes "),
    (r"\bheart attacks?\b", " heartattack "),
    (r"\bgrape ?fruit\b", " grapefruit "),
    (r"\bquit ?line\b|\b1 ?800 ?quit ?now\b", " quitline "),
    (r"\bwhat (?:can|do|else can) (?:you|u) (?:do|help|know)\w*\b|\bhow (?:can|do) (?:you|u) (?:help|work)\b", " capabilities "),
    (r"\b(?:you|u) (?:able to|can) help\b", " capabilities "),
    (r"\bwho (?:are|r) (?:you|u)\b|\bwhat (?:are|r) (?:you|u)\s*$|\bare (?:you|u) (?:a |an )?(?:real|human|robot|person|computer|bot|ai)\b", " aboutpaco "),
    (r"\b(?:talking|speaking|chatting) (?:to|with) (?:a |an )?(?:computer|robot|machine|bot|ai|real person|human)\b", " aboutpaco "),
    (r"\bare (?:you|u) (?:a |my )?(?:doctor|nurse)\b", " aboutpaco notdoctor "),
    (r"\bgood (?:morning|afternoon|evening)\b|\bhow are (?:you|u)\b", " hello "),
    (r"\bhow (?:much|many) (?:should|can|do) i walk\b", " walk exercise "),
    (r"\bover the counter\b|\botc\b", " otc "),
    (r"\bdo (?:anything|any good|something)\b", " work "),
    (r"\bemergency room\b|\ber\b|\bhospital\b|\bambulance\b", " emergency "),
    (r"\bwhat (?:is|exactly is|does)\b|\bwhats\b|\bdefine\b|\bmean(?:s|ing)?\b|\bexplain\b", " definition "),
]
# One pass; at each word start the first listed phrase wins (look-behind skips mid-word spots).
_PHRASE_RE = re.compile(
    r"(?<![a-z0-9])(?:" + "|".join(f"(?P<p{i}>{p})" for i, (p, _) in enumerate(_PHRASES)) + ")")
_PHRASE_REPL = {f"p{i}": r for i, (_, r) in enumerate(_PHRASES)}

# canonical word: the brand names, lay words and misspellings folded onto it
_SYNONYM_GROUPS = {
    "clopidogrel": "plavix clopidogral clopidigrel clopidrogel clopedogrel clopidogrl clopigogrel "
        "plavics plavx",
    "aspirin": "asprin aspirn asperin aspiring ecotrin bayer asa",
    "statin": "statins statn staten statine lipitor crestor zocor pravachol livalo atorvastatin "
        "rosuvastatin simvastatin pravastatin lovastatin pitavastatin atorvastatine",
    "rivaroxaban": "xarelto rivaroxiban rivaroxaben zarelto xeralto",
    "warfarin": "coumadin",
    "apixaban": "eliquis",
    "cilostazol": "pletal cilostazole cilostizol cilastazol cilostozol",
    "diabetes": "metformin insulin glucophage jardiance ozempic farxiga trulicity",
    "bloodpressure": "lisinopril amlodipine losartan metoprolol hydrochlorothiazide",
    "nsaid": "ibuprofen advil motrin aleve naproxen nsaids painkiller painkillers",
    "acetaminophen": "tylenol paracetamol",
    "smoke": "cigarettes cigarette cigs smoking smoker smokes smoked tobacco vape vaping nicotine "
        "cigars",
    "alcohol": "beer wine liquor booze drinking drinks",
    "medicine": "med meds medication medications medicines medicin medecine pill pills tablet "
        "tablets drug drugs prescription prescriptions rx",
    "dose": "doses dosage",
    "miss": "forgot forgotten missed skipped",
    "remember": "forget forgetting forgetful remind reminder reminders alarm",
    "leg": "calf calves thigh thighs legs hip buttock",
    "foot": "feet toe toes",
    "pain": "hurt hurts hurting ache aches aching achy cramp cramps cramping painful pains",
    "exercise": "exercising workout",
    "walk": "walks walking walked",
    "eat": "food foods eating diet meal meals",
    "cost": "afford expensive price pricey money copay costs pay insurance cheaper",
    "hello": "hi hey hiya howdy",
    "doctor": "doc dr physician",
    "pharmacist": "chemist pharmacy drugstore",
    "refill": "refills refilling renew",
    "bruise": "bruises bruising bruised",
    "bleeding": "bleed bleeds",
    "study": "research trial",
    "data": "information info privacy private",
    "say": "told tells said",
    "travel": "trip vacation holiday traveling travelling flight flying",
    "mood": "sad depressed depression lonely anxious worried stressed discouraged",
    "thank": "thanks thankyou",
    "goodbye": "bye cya",
    "sore": "ulcer wound blister wounds sores",
}
_SYNONYMS = {word: canon for canon, words in _SYNONYM_GROUPS.items() for word in words.split()}
_CVC = re.compile(r"[^aeiou][aeiouy][^aeiouwxy]$")


@functools.lru_cache(maxsize=4096)
def _stem(word: str) -> str:
    """A light suffix stemmer: folds plurals and -ing/-ed so 'walking' meets 'walk'."""
    if len(word) <= 3 or word.isdigit():
        return word
    for suffix, repl in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                break
            if suffix == "es" and not word.endswith(("ses", "xes", "ches", "shes", "zes")):
                continue
            word = word[: len(word) - len(suffix)] + repl
            if suffix in ("ing", "ed"):
                if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "ls":
                    word = word[:-1]  # stopping -> stop
                elif len(word) == 3 and _CVC.match(word):
                    word += "e"  # caring -> care, not car
            break
    return word[:-1] if len(word) > 4 and word.endswith("e") else word


def tokenize(text: str) -> list[str]:
    text = text.lower().replace("\u2019", "'").replace("'", "")
    text = re.sub(r"[^a-z0-9.]+", " ", text)
    text = _PHRASE_RE.sub(lambda m: _PHRASE_REPL[m.lastgroup], text)
    tokens = []
    for word in text.replace(".", " ").split():
        word = _SYNONYMS.get(word, word)
        if word in _STOP_WORDS:
            continue
        tokens.append(_SYNONYMS.get(_stem(word), _stem(word)))
    return tokens


class KnowledgeBaseError(ValueError):
    """A knowledge file is missing, unreadable or breaks the entry schema."""


@dataclass(frozen=True)
class Entry:
    id: str
    title: str
    questions: tuple[str, ...]
    answer: str
    source_title: str
    source_url: str
    reviewed_on: datetime.date
    tags: tuple[str, ...]


@dataclass(frozen=True)
class Match:
    entry: Entry
    score: float


def _text(value, what: str, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise KnowledgeBaseError(f"{name}: {what} must be a non-empty string")
    return " ".join(value.split())


def parse_entry(path: Path) -> Entry:
    """Read and validate one entry file; every problem is reported with the file's name."""
    name = path.name
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise KnowledgeBaseError(f"{name}: cannot read YAML ({exc})") from exc
    if not isinstance(data, dict):
        raise KnowledgeBaseError(f"{name}: top level must be a mapping")
    for problem, keys in (("missing", _REQUIRED_KEYS - data.keys()), ("unknown", data.keys() - _REQUIRED_KEYS)):
        if keys:
            raise KnowledgeBaseError(f"{name}: {problem} key(s) {', '.join(sorted(map(str, keys)))}")
    questions = data["questions"]
    if not isinstance(questions, list) or len(questions) < _MIN_QUESTIONS:
        raise KnowledgeBaseError(f"{name}: questions must be a list of at least {_MIN_QUESTIONS}")
    source = data["source"]
    if not isinstance(source, dict) or set(source) != {"title", "url"}:
        raise KnowledgeBaseError(f"{name}: source must have exactly 'title' and 'url'")
    url = _text(source["url"], "source.url", name)
    if not re.fullmatch(r"https://[a-z0-9.-]+\.[a-z]{2,}(/\S*)?", url):
        raise KnowledgeBaseError(f"{name}: source.url must be an https URL, got {url!r}")
    reviewed = data["reviewed_on"]
    if isinstance(reviewed, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", reviewed):
        try:
            reviewed = datetime.date.fromisoformat(reviewed)
        except ValueError:
            pass
    if not isinstance(reviewed, datetime.date) or isinstance(reviewed, datetime.datetime):
        raise KnowledgeBaseError(f"{name}: reviewed_on must be a date (YYYY-MM-DD)")
    tags = data["tags"]
    if not isinstance(tags, list) or not tags or not all(isinstance(t, str) for t in tags):
        raise KnowledgeBaseError(f"{name}: tags must be a non-empty list of strings")
    if set(tags) - ALLOWED_TAGS:
        raise KnowledgeBaseError(f"{name}: unknown tag(s) {', '.join(sorted(set(tags) - ALLOWED_TAGS))}")
    return Entry(
        id=path.stem,
        title=_text(data["title"], "title", name),
        questions=tuple(_text(q, "each question", name) for q in questions),
        answer=_text(data["answer"], "answer", name),
        source_title=_text(source["title"], "source.title", name),
        source_url=url,
        reviewed_on=reviewed,
        tags=tuple(tags),
    )


class KnowledgeBase:
    def __init__(self, entries: tuple[Entry, ...]):
        if not entries:
            raise KnowledgeBaseError("knowledge base has no entries")
        self.entries = entries
        self._by_id = {e.id: e for e in entries}
        docs = [tokenize(" ".join((e.title,) + e.questions)) for e in entries]
        self._questions = BM25Okapi(docs)
        self._answers = BM25Okapi([tokenize(e.answer) for e in entries])
        self._entry_tokens = {e.id: frozenset(doc) for e, doc in zip(entries, docs)}
        self._idf = self._questions.idf
        self._unknown_idf = UNKNOWN_IDF_SHARE * max(self._idf.values())

    @classmethod
    def load(cls, directory: str | Path | None = None) -> "KnowledgeBase":
        directory = Path(directory) if directory is not None else KNOWLEDGE_DIR
        if not directory.is_dir():
            raise KnowledgeBaseError(f"{directory}: not a directory")
        files = sorted(directory.glob("*.yaml"))
        if not files:
            raise KnowledgeBaseError(f"{directory}: no *.yaml entry files")
        return cls(tuple(parse_entry(path) for path in files))

    def get(self, entry_id: str) -> Entry:
        return self._by_id[entry_id]  # KeyError names the unknown id

    def scores(self, question: str) -> list[tuple[float, Entry]]:
        """Every entry's score, best first (for tuning and the CLI)."""
        tokens = tokenize(question)
        if not tokens:
            return []
        combined = self._questions.get_scores(tokens) + ANSWER_WEIGHT * self._answers.get_scores(tokens)
        return sorted(zip(map(float, combined), self.entries), key=lambda p: -p[0])

    def coverage(self, question: str, entry: Entry) -> float:
        """Share of the question's IDF mass that the entry's questions and title contain."""
        tokens = set(tokenize(question))
        if not tokens:
            return 0.0
        index = self._entry_tokens[entry.id]
        weight = {t: max(self._idf.get(t, self._unknown_idf), 0.1) for t in tokens}
        return sum(w for t, w in weight.items() if t in index) / sum(weight.values())

    def search(self, question: str) -> Match | None:
        ranked = self.scores(question)
        if not ranked or ranked[0][0] < MIN_SCORE:
            return None
        score, entry = ranked[0]
        coverage = self.coverage(question, entry)
        if coverage < MIN_COVERAGE and (score < STRONG_SCORE or coverage < STRONG_MIN_COVERAGE):
            return None
        return Match(entry=entry, score=round(score, 3))


@functools.lru_cache(maxsize=1)
def default_knowledge_base() -> KnowledgeBase:
    return KnowledgeBase.load()
