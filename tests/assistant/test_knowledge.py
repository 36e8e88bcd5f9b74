"""The offline knowledge base: every entry valid and readable, retrieval accurate, CLI works."""

import datetime
import re
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from paco.assistant.knowledge_base import (
    ALLOWED_TAGS,
    KNOWLEDGE_DIR,
    NO_MATCH_REPLY,
    Entry,
    KnowledgeBase,
    KnowledgeBaseError,
    Match,
    default_knowledge_base,
    tokenize,
)
from scripts.assistant import assistant_cli
from tests.assistant import fk_grade

EVAL = yaml.safe_load((Path(__file__).with_name("retrieval_eval.yaml")).read_text())
CARE_TEAM = re.compile(r"\b(?:doctor|nurse|pharmacist|care team)\b", re.I)
DECISION_TAGS = {"medications", "side_effects", "missed_doses", "interactions"}


@pytest.fixture(scope="module")
def kb():
    return KnowledgeBase.load()


def entries():
    return KnowledgeBase.load().entries


def test_loads_enough_entries(kb):
    assert 90 <= len(kb.entries) <= 150, len(kb.entries)
    assert len({e.id for e in kb.entries}) == len(kb.entries)
    assert all(isinstance(e, Entry) for e in kb.entries)


@pytest.mark.parametrize("entry", entries(), ids=lambda e: e.id)
def test_entry_is_complete_sourced_and_readable(entry):
    assert entry.source_url.startswith("https://")
    assert entry.source_title
    assert isinstance(entry.reviewed_on, datetime.date)
    assert len(entry.questions) >= 4
    assert entry.tags and set(entry.tags) <= ALLOWED_TAGS
    words = len(entry.answer.split())
    assert 40 <= words <= 110, f"{entry.id}: {words} words (speak in 15-40 s)"
    grade = fk_grade(entry.answer)
    assert grade <= 8, f"{entry.id}: Flesch-Kincaid grade {grade:.1f} > 8"
    assert not re.search(r"\bPAD\b", entry.answer), f"{entry.id}: write P.A.D. in answers"
    if DECISION_TAGS & set(entry.tags):
        assert CARE_TEAM.search(entry.answer), f"{entry.id}: must point to the care team"


def test_required_topics_are_covered(kb):
    for topic in ("aspirin", "clopidogrel", "statins", "cilostazol", "rivaroxaban",
                  "blood_pressure_medicines", "diabetes_medicines", "missed_dose", "nsaids",
                  "grapefruit", "alcohol", "pill_organiser", "reminders", "refills", "cost_help",
                  "supervised_exercise", "quit_smoking", "foot_care", "healthy_eating",
                  "study_about", "about_paco", "hello", "capabilities", "pad_what_is",
                  "pad_symptoms"):
        assert kb.get(topic).id == topic
    assert "1-800-QUIT-NOW" in kb.get("quit_smoking").answer
    assert "1-800-222-1222" in kb.get("extra_dose").answer
    with pytest.raises(KeyError):
        kb.get("no-such-entry")


GOOD = (KNOWLEDGE_DIR / "aspirin.yaml").read_text()


@pytest.mark.parametrize("text, problem", [
    ("title: [unclosed\n", "cannot read YAML"),
    ("- just\n- a list\n", "mapping"),
    (GOOD.replace("title: Aspirin for P.A.D.\n", ""), "missing key"),
    (GOOD + "extra: 1\n", "unknown key"),
    (GOOD.replace("https://medlineplus", "http://medlineplus"), "https"),
    (GOOD.replace("reviewed_on: 2025-01-15", "reviewed_on: last spring"), "reviewed_on"),
    (GOOD.replace("tags: [medications]", "tags: [gossip]"), "unknown tag"),
    (re.sub(r"questions:\n(  - .*\n)+", "questions:\n  - \"Why?\"\n", GOOD), "questions"),
    (GOOD.replace("answer: >-", "answer: ''\nold_answer: >-"), "unknown key"),
])
def test_malformed_file_is_refused_with_its_name(tmp_path, text, problem):
    shutil.copy(KNOWLEDGE_DIR / "statins.yaml", tmp_path / "statins.yaml")
    (tmp_path / "broken_entry.yaml").write_text(text)
    with pytest.raises(KnowledgeBaseError) as err:
        KnowledgeBase.load(tmp_path)
    assert "broken_entry.yaml" in str(err.value)
    assert problem in str(err.value)


def test_empty_or_missing_directory_is_refused(tmp_path):
    with pytest.raises(KnowledgeBaseError):
        KnowledgeBase.load(tmp_path)
    with pytest.raises(KnowledgeBaseError):
        KnowledgeBase.load(tmp_path / "nope")


def test_tokenizer_folds_brands_misspellings_and_lay_words():
    assert tokenize("Plavix") == tokenize("clopidogral") == ["clopidogrel"]
    assert tokenize("asprin") == ["aspirin"]
    assert set(tokenize("lipitor crestor zocor statn")) == {"statin"}
    assert tokenize("Xarelto") == ["rivaroxaban"] and tokenize("pletal") == ["cilostazol"]
    assert tokenize("cigarettes") == tokenize("smoking") == tokenize("tobacco")
    assert tokenize("blood thinners") == ["bloodthinner"]
    assert tokenize("walking") == tokenize("walks") == ["walk"]
    assert tokenize("P.A.D.") == tokenize("peripheral artery disease") == ["pad"]


def _plain(text):
    return " ".join(re.sub(r"[^a-z0-9 ]+", " ", text.lower().replace("'", "")).split())


def test_eval_questions_are_paraphrases_not_copies(kb):
    own = {_plain(q) for e in kb.entries for q in e.questions + (e.title,)}
    copies = [i["q"] for i in EVAL["questions"] if _plain(i["q"]) in own]
    assert len(EVAL["questions"]) >= 60
    assert not copies, f"eval questions copied from entries: {copies}"


def test_retrieval_accuracy_on_paraphrases(kb):
    misses = []
    for item in EVAL["questions"]:
        expected = item["expect"] if isinstance(item["expect"], list) else [item["expect"]]
        for entry_id in expected:
            kb.get(entry_id)  # the eval set must name real entries
        match = kb.search(item["q"])
        if match is None or match.entry.id not in expected:
            misses.append(f"{item['q']!r} -> {match.entry.id if match else None} (want {expected})")
    accuracy = 1 - len(misses) / len(EVAL["questions"])
    print(f"\nretrieval accuracy: {accuracy:.1%} of {len(EVAL['questions'])} paraphrases")
    assert accuracy >= 0.90, f"accuracy {accuracy:.1%}; misses:\n" + "\n".join(misses)


@pytest.mark.parametrize("question", ["who won the football game", "how do i fix my car", "", "?!"])
def test_off_topic_gets_no_match(kb, question):
    assert kb.search(question) is None


def test_off_topic_set_mostly_rejected(kb):
    accepted = [(q, m.entry.id) for q in EVAL["off_topic"] if (m := kb.search(q))]
    rate = 1 - len(accepted) / len(EVAL["off_topic"])
    print(f"\noff-topic rejected: {rate:.1%} of {len(EVAL['off_topic'])}")
    assert rate >= 0.9, f"off-topic questions answered: {accepted}"


def test_search_returns_match_with_score(kb):
    match = kb.search("why do i take plavix")
    assert isinstance(match, Match) and match.entry.id == "clopidogrel" and match.score > 0


def test_no_match_reply_points_to_care_team():
    assert NO_MATCH_REPLY.startswith("I don't have information about that")
    assert "care team" in NO_MATCH_REPLY


def test_default_knowledge_base_is_cached():
    assert default_knowledge_base() is default_knowledge_base()


# ------------------------------------------------------------------ flask assistant ask

def _ask(question):
    result = CliRunner().invoke(assistant_cli, ["ask", question])
    assert result.exit_code == 0, result.output
    return result.output


def test_cli_answers_from_knowledge_base():
    out = _ask("what is plavix for")
    assert "clopidogrel" in out and "medlineplus.gov" in out and "Plavix" in out


def test_cli_shows_safety_flag_first():
    out = _ask("i have chest pain")
    assert "emergency.chest_pain" in out and "911" in out


def test_cli_no_match():
    assert NO_MATCH_REPLY in _ask("who won the football game")


def test_the_questions_people_ask_first():
    """Issue 12's paraphrase set (tests/assistant/paraphrase_eval.yaml), written before the new
    entries. Held-out read 85.5 % top-1 and 85.7 % honest no-match at its first run
    (BENCHMARKS.md): floors, so that later changes cannot lose what was reached."""
    from paco.assistant.evaluation import retrieval_report

    tuning, heldout = retrieval_report("tuning"), retrieval_report("heldout")
    assert tuning["top1_accuracy"] >= 0.90, tuning["misses"][:10]
    assert tuning["no_match_rate"] >= 0.95
    assert heldout["top1_accuracy"] >= 0.85 and heldout["no_match_rate"] >= 0.85, heldout["misses"]
