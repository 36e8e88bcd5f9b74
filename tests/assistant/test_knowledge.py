"""The offline knowledge base: every entry valid and readable, retrieval accurate, CLI works."""

import datetime
import re
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from paco.assistant.evaluation import load_items, retrieval_report
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
from paco.assistant.readability import MAX_GRADE, check_reply, fk_grade
from scripts.assistant import assistant_cli

EVAL = yaml.safe_load((Path(__file__).with_name("retrieval_eval.yaml")).read_text())
CARE_TEAM = re.compile(r"\b(?:doctor|nurse|pharmacist|care team)\b", re.I)
DECISION_TAGS = {"medications", "side_effects", "missed_doses", "interactions"}
# Public health bodies and professional societies whose patient pages the entries cite.
SOURCE_DOMAINS = (
    "medlineplus.gov", "nih.gov", "cdc.gov", "fda.gov", "heart.org", "ahajournals.org",
    "vascular.org", "ssa.gov", "medicare.gov", "smokefree.gov", "poison.org",
)


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
    host = entry.source_url.split("/")[2]
    assert any(host == d or host.endswith("." + d) for d in SOURCE_DOMAINS), f"{entry.id}: {host}"
    assert entry.source_title
    assert isinstance(entry.reviewed_on, datetime.date)
    assert len(entry.questions) >= 4
    assert entry.tags and set(entry.tags) <= ALLOWED_TAGS
    words = len(entry.answer.split())
    assert 40 <= words <= 110, f"{entry.id}: {words} words (speak in 15-40 s)"
    grade = fk_grade(entry.answer)
    assert grade <= MAX_GRADE, f"{entry.id}: Flesch-Kincaid grade {grade:.1f} > {MAX_GRADE}"
    assert not re.search(r"\bPAD\b", entry.answer), f"{entry.id}: write P.A.D. in answers"
    if DECISION_TAGS & set(entry.tags):
        assert CARE_TEAM.search(entry.answer), f"{entry.id}: must point to the care team"


def test_required_topics_are_covered(kb):
    for topic in ("aspirin", "clopidogrel", "statins", "cilostazol", "rivaroxaban",
                  "blood_pressure_medicines", "diabetes_medicines", "missed_dose", "nsaids",
                  "grapefruit", "alcohol", "pill_organiser", "reminders", "refills", "cost_help",
                  "supervised_exercise", "quit_smoking", "foot_care", "healthy_eating",
                  "study_about", "about_paco", "hello", "capabilities", "pad_what_is",
                  "pad_symptoms",
                  # issue 12: the questions people ask first
                  "claudication", "abi_test", "abi_results", "ultrasound_test", "angiogram",
                  "ct_mr_angiogram", "angioplasty", "stents", "bypass_surgery",
                  "recovery_angioplasty", "recovery_bypass", "groin_site_care",
                  "aspirin_side_effects", "clopidogrel_side_effects", "cilostazol_side_effects",
                  "rivaroxaban_side_effects", "bp_medicine_side_effects", "acetaminophen",
                  "foot_check_daily", "shoes_socks", "walking_pain", "diabetes_pad",
                  "blood_pressure_pad", "medicare_extra_help", "next_visit_questions"):
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
    copies = [i.question for i in load_items("all") if _plain(i.question) in own]
    assert len(EVAL["questions"]) >= 60
    assert not copies, f"eval questions copied from entries: {copies}"


def test_paraphrase_set_is_large_labelled_and_a_third_held_back(kb):
    second = yaml.safe_load((Path(__file__).with_name("paraphrase_eval.yaml")).read_text())["items"]
    assert len(second) >= 300
    held = [i for i in second if i["split"] == "heldout"]
    assert {i["split"] for i in second} == {"tuning", "heldout"}
    assert 0.28 <= len(held) / len(second) <= 0.38
    assert sum(i["expect"] == "none" for i in held) >= 10  # off-topic in the held-back part too
    labelled = {e for i in load_items("all") for e in i.expected}
    missing = {e.id for e in kb.entries} - labelled
    assert not missing, f"entries no paraphrase asks for: {sorted(missing)}"


def test_second_held_back_set_is_big_and_fresh(kb):
    """heldout2 was written before the second round of retrieval changes: at least 120 on-topic
    and 20 off-topic questions, none a near copy (rapidfuzz ratio > 85) of an earlier question or
    of an entry's own questions."""
    from rapidfuzz import fuzz, process

    fresh = load_items("heldout2")
    assert sum(not i.off_topic for i in fresh) >= 120 and sum(i.off_topic for i in fresh) >= 20
    earlier = [_plain(i.question) for i in load_items("all") if i.split != "heldout2"]
    earlier += [_plain(q) for e in kb.entries for q in e.questions + (e.title,)]
    near = [(i.question, hit[0]) for i in fresh
            if (hit := process.extractOne(_plain(i.question), earlier, scorer=fuzz.ratio, score_cutoff=85.01))]
    assert not near, f"near copies: {near}"


# Targets (issue 12): top-1 right entry >= 90 %; off-topic messages get the honest "I don't know".
# The tuning split is what retrieval was tuned on, so it must meet them. The held-back split was
# run once, after tuning (BENCHMARKS.md: top-1 85.5 %, no-match 12/14); it is held to a floor at
# what it read then, so a change that makes unseen messages worse fails here.
TUNING_TOP1, TUNING_NO_MATCH = 0.90, 0.95
HELDOUT_TOP1_FLOOR, HELDOUT_NO_MATCH_FLOOR = 0.85, 0.85


def _misses(report):
    return "\n".join(f"  {m['q']!r} -> {m['got']} (want {m['expected']})" for m in report["misses"])


def test_retrieval_meets_targets_on_tuning_split(kb):
    report = retrieval_report("tuning", kb)
    print(f"\ntuning: top-1 {report['top1_accuracy']:.1%} of {report['on_topic']}, "
          f"no-match {report['no_match_rate']:.1%} of {report['off_topic']}")
    assert report["on_topic"] >= 300 and report["off_topic"] >= 40
    assert report["top1_accuracy"] >= TUNING_TOP1, _misses(report)
    assert report["no_match_rate"] >= TUNING_NO_MATCH, _misses(report)


def test_retrieval_on_held_back_split_stays_above_its_floor(kb):
    report = retrieval_report("heldout", kb)
    print(f"\nheld back: top-1 {report['top1_accuracy']:.1%} of {report['on_topic']}, "
          f"no-match {report['no_match_rate']:.1%} of {report['off_topic']}")
    assert report["on_topic"] >= 100
    assert report["top1_accuracy"] >= HELDOUT_TOP1_FLOOR
    assert report["no_match_rate"] >= HELDOUT_NO_MATCH_FLOOR


# heldout2 (paraphrase_eval_heldout2.yaml) was written before the second round of retrieval
# changes and run once (BENCHMARKS.md: top-1 78.4 %, no-match 16/24); floors at that first run.
HELDOUT2_TOP1_FLOOR, HELDOUT2_NO_MATCH_FLOOR = 0.784, 0.666


def test_retrieval_on_second_held_back_split_stays_above_its_floor(kb):
    report = retrieval_report("heldout2", kb)
    assert report["on_topic"] >= 120 and report["off_topic"] >= 20
    assert report["top1_accuracy"] >= HELDOUT2_TOP1_FLOOR
    assert report["no_match_rate"] >= HELDOUT2_NO_MATCH_FLOOR


def test_report_counts_add_up_and_unknown_split_is_refused(kb):
    report = retrieval_report("all", kb)
    assert report["on_topic"] + report["off_topic"] == len(load_items("all"))
    assert report["top1_correct"] + report["unanswered"] <= report["on_topic"]
    wrong = report["on_topic"] - report["top1_correct"] + report["off_topic"] - report["no_match_correct"]
    assert len(report["misses"]) == wrong
    assert all(set(m) == {"q", "expected", "got"} for m in report["misses"])
    with pytest.raises(ValueError):
        retrieval_report("everything", kb)


@pytest.mark.parametrize("message, entry_id", [
    ("my doc wrote claudicaton on my papers", "claudication"),  # spelling corrected by rapidfuzz
    ("is a headache normal when starting cilostazol", "cilostazol_side_effects"),
    ("what is an ankle brachial index test", "abi_test"),
])
def test_basic_questions_from_the_issue_are_answered(kb, message, entry_id):
    assert kb.search(message).entry.id == entry_id


def test_reply_grade_check():
    easy = check_reply("Walk until it hurts. Then rest. Then walk again.")
    hard = check_reply("Pharmacological antiplatelet intervention substantially attenuates "
                       "atherothrombotic cardiovascular complications in symptomatic individuals.")
    assert easy.ok and easy.grade <= MAX_GRADE
    assert not hard.ok and hard.grade > MAX_GRADE
    assert hard.as_dict() == {"grade": hard.grade, "max_grade": MAX_GRADE, "ok": False}
    assert check_reply("").grade == 0.0


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



def test_cli_eval_prints_retrieval_per_split():
    result = CliRunner().invoke(assistant_cli, ["eval"])
    assert result.exit_code == 0, result.output
    assert "knowledge retrieval, tuning questions" in result.output
    assert "knowledge retrieval, heldout questions" in result.output
    assert "knowledge retrieval, heldout2 questions" in result.output
    assert "safety screen, heldout2 messages" in result.output
    assert "honest no-match" in result.output
