"""PaCo's offline knowledge base: reviewed P.A.D. and medication entries, one YAML file each.

The curated responder answers only from these entries, so loading is strict: a bad file stops
the load with a message naming the file, rather than shipping a half-checked answer to a patient.
Retrieval is BM25 (rank_bm25) over each entry's questions and title, plus its best single question,
with the answer text as a weaker signal. A tokenizer driven by knowledge_vocabulary.yaml folds
phrases, brand names, lay words and known misspellings onto the words the entries use; other
misspellings are corrected against the entries' own words with rapidfuzz.
"""

from __future__ import annotations

import datetime
import functools
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml
from rank_bm25 import BM25Okapi
from rapidfuzz import fuzz, process

KNOWLEDGE_DIR = Path(__file__).with_name("knowledge")
VOCABULARY_FILE = Path(__file__).with_name("knowledge_vocabulary.yaml")
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C parser when PyYAML has it

NO_MATCH_REPLY = "I don't have information about that. Please ask your care team."
ALLOWED_TAGS = frozenset({
    "medications", "side_effects", "walking_exercise", "smoking", "diet", "foot_care",
    "symptoms", "adherence_strategies", "study", "interactions", "missed_doses",
    "tests_procedures", "risk_factors", "costs",
})
_REQUIRED_KEYS = {"title", "questions", "answer", "source", "reviewed_on", "tags"}
_MIN_QUESTIONS = 4

# Misspellings: a message word the entries never use, of at least this many letters, is replaced
# by the closest word they do use when the two are this similar (rapidfuzz ratio, 0-100).
FUZZY_MIN_LENGTH = 7
FUZZY_CUTOFF = 85
# Answer words count less than the ways people ask: answers share many words across entries.
ANSWER_WEIGHT = 0.3
SINGLE_QUESTION_WEIGHT = 0.5
# The no-match thresholds below were set by a grid search on the tuning split of the paraphrase
# sets (paco/assistant/evaluation.py), maximising top-1 accuracy plus the off-topic "I don't know"
# rate; the held-back split was not looked at. Scores are question BM25 + half the best single
# question's BM25 + 0.3 x answer BM25.
# Below this score the best entry is a guess; "I don't know" is safer.
MIN_SCORE = 4.0
# The best entry must also cover this share of the message's information, counted in IDF; a word
# the index has never seen weighs UNKNOWN_IDF_SHARE of the rarest word. (Off-topic messages that
# share only an everyday word with an entry are refused earlier: the vocabulary's weak_words.)
MIN_COVERAGE = 0.3
UNKNOWN_IDF_SHARE = 0.75
# A score this high means rare words of the entry matched strongly: trust it even when the
# message carries many words the index does not know ("started the pletal monday and ...").
STRONG_SCORE = 10.0
# ...but not when they are a small part of the message.
STRONG_MIN_COVERAGE = 0.2
# "What does metformin do?" asks what a medicine is for: a side-effects entry scores this share of
# its score unless the message also names how the person feels (the vocabulary's symptom_words).
SIDE_EFFECT_PENALTY = 0.75

def _load_vocabulary(path: Path):
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    phrases = [tuple(pair) for pair in data["phrases"]]
    # One pass; at each word start the first listed phrase wins (look-behind skips mid-word spots).
    phrase_re = re.compile(
        r"(?<![a-z0-9])(?:" + "|".join(f"(?P<p{i}>{p})" for i, (p, _) in enumerate(phrases)) + ")")
    replacements = {f"p{i}": r for i, (_, r) in enumerate(phrases)}
    synonyms = {word: canon for canon, words in data["synonyms"].items() for word in words.split()}
    expand = {word: tuple(extra.split()) for word, extra in data["expand"].items()}
    def fold(words: str) -> frozenset:
        return frozenset(synonyms.get(_stem(synonyms.get(w, w)), _stem(synonyms.get(w, w))) for w in words.split())

    weak, symptoms = fold(data["weak_words"]), fold(data["symptom_words"])
    return frozenset(data["stop_words"].split()), phrase_re, replacements, synonyms, expand, weak, symptoms


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


_STOP_WORDS, _PHRASE_RE, _PHRASE_REPL, _SYNONYMS, _EXPAND, _WEAK, _SYMPTOMS = _load_vocabulary(VOCABULARY_FILE)
_ASKS_WHAT_FOR = frozenset({_stem("purpose"), _stem("definition")})  # the phrase table's tokens


def words(text: str) -> list[str]:
    """Lower-case words of text, apostrophes dropped ("don't" -> "dont"), dots kept for P.A.D."""
    text = text.lower().replace("\u2019", "'").replace("'", "")
    return re.sub(r"[^a-z0-9.]+", " ", text).split()


def tokenize(text: str) -> list[str]:
    text = _PHRASE_RE.sub(lambda m: _PHRASE_REPL[m.lastgroup], " ".join(words(text)))
    tokens = []
    for word in text.replace(".", " ").split():
        word = _SYNONYMS.get(word, word)
        if word in _STOP_WORDS:
            continue
        token = _SYNONYMS.get(_stem(word), _stem(word))
        tokens.append(token)
        tokens.extend(_EXPAND.get(token, ()))
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
        # Each question (and the title) also on its own: the best single question that matches
        # rewards an entry asked about in one way, not one that repeats a common word often.
        own = [(i, tokenize(q)) for i, e in enumerate(entries) for q in (e.title,) + e.questions]
        self._single = BM25Okapi([doc for _, doc in own])
        self._single_owner = np.array([i for i, _ in own])
        self._entry_tokens = {e.id: frozenset(doc) for e, doc in zip(entries, docs)}
        self._side_effects = np.array(["side_effects" in e.tags for e in entries])
        self._idf = self._questions.idf
        self._unknown_idf = UNKNOWN_IDF_SHARE * max(self._idf.values())
        # The words a message is spelled against: every word the entries and the vocabulary
        # tables use. A message word outside it is replaced by its closest spelling, if close.
        known = {w for e in entries for w in words(" ".join((e.title, e.answer) + e.questions))}
        known |= set(_SYNONYMS) | set(_SYNONYMS.values())
        self._known = frozenset(w for w in known if w.isalpha())
        self._spellings = sorted(w for w in self._known if len(w) >= FUZZY_MIN_LENGTH - 1)
        self._corrections: dict[str, str] = {}

    def _correct(self, word: str) -> str:
        """The known word closest to a misspelt one ('claudicaton' -> 'claudication'), else word."""
        if word in self._known or word in _STOP_WORDS or len(word) < FUZZY_MIN_LENGTH or not word.isalpha():
            return word
        if _PHRASE_RE.fullmatch(word):
            return word  # a word the phrase table reads ("slipped"), not a misspelling of "skipped"
        if word not in self._corrections:
            best = process.extractOne(word, self._spellings, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
            self._corrections[word] = best[0] if best else word
        return self._corrections[word]

    def query_tokens(self, question: str) -> list[str]:
        """A message's tokens, with misspellings corrected against the entries' words first."""
        return tokenize(" ".join(self._correct(w) for w in words(question)))

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
        tokens = self.query_tokens(question)
        if not tokens:
            return []
        best_single = np.zeros(len(self.entries))
        np.maximum.at(best_single, self._single_owner, self._single.get_scores(tokens))
        combined = (self._questions.get_scores(tokens) + SINGLE_QUESTION_WEIGHT * best_single
                    + ANSWER_WEIGHT * self._answers.get_scores(tokens))
        if _ASKS_WHAT_FOR & set(tokens) and not _SYMPTOMS & set(tokens):
            combined = np.where(self._side_effects, combined * SIDE_EFFECT_PENALTY, combined)
        return sorted(zip(map(float, combined), self.entries), key=lambda p: -p[0])

    def coverage(self, question: str, entry: Entry) -> float:
        """Share of the question's IDF mass that the entry's questions and title contain."""
        tokens = set(self.query_tokens(question))
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
        if not (set(self.query_tokens(question)) & self._entry_tokens[entry.id]) - _WEAK:
            return None  # only everyday words in common: "what *time* does the bank open"
        coverage = self.coverage(question, entry)
        if coverage < MIN_COVERAGE and (score < STRONG_SCORE or coverage < STRONG_MIN_COVERAGE):
            return None
        return Match(entry=entry, score=round(score, 3))


@functools.lru_cache(maxsize=1)
def default_knowledge_base() -> KnowledgeBase:
    return KnowledgeBase.load()
