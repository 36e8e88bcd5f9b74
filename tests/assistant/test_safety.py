"""PaCo's safety screen, measured on a labelled set of messages typed the way people type."""

from collections import Counter
from pathlib import Path

import pytest
import yaml

from paco.assistant.safety import CATEGORIES, SafetyFlag, check_message, evaluate_set, load_rules, normalise
from tests.assistant import fk_grade

MESSAGES = yaml.safe_load(Path(__file__).with_name("safety_eval.yaml").read_text())["messages"]


def evaluate() -> dict:
    """Recall per category and the false-alarm rate on the eval set (also for reports)."""
    return evaluate_set(MESSAGES)


@pytest.fixture(scope="module")
def report():
    result = evaluate()
    lines = ["", "safety screen on tests/assistant/safety_eval.yaml:"]
    for category in CATEGORIES:
        b = result[category]
        lines.append(f"  {category:18s} recall {b['recall']:6.1%}  ({b['caught']}/{b['total']})")
    o = result["ordinary"]
    lines.append(f"  {'false alarms':18s} rate   {o['rate']:6.1%}  ({len(o['false_alarms'])}/{o['total']})")
    print("\n".join(lines))
    return result


def test_eval_set_is_big_and_balanced():
    counts = Counter(m["expect"] for m in MESSAGES)
    assert len(MESSAGES) >= 200
    assert counts["emergency"] >= 50 and counts["urgent"] >= 25 and counts["crisis"] >= 15
    assert counts["medication_change"] >= 25 and counts[None] >= 80
    assert set(counts) <= set(CATEGORIES) | {None}
    texts = [m["text"] for m in MESSAGES]
    assert len(texts) == len(set(texts)), "duplicate messages in the eval set"
    from paco.assistant.safety_evaluation import SPLITS, safety_messages

    flagged_by = Counter(flag.rule_id for split in SPLITS for m in safety_messages(split)
                         if m["expect"] == "emergency" and (flag := check_message(m["text"])))
    for rule in load_rules():
        if rule.category == "emergency":
            assert flagged_by[rule.id] >= 3, f"{rule.id} needs several phrasings in the eval sets"


def test_every_emergency_is_caught(report):
    misses = report["emergency"]["misses"]
    assert not misses, "missed emergencies:\n" + "\n".join(f"  {t!r} -> {r}" for t, r in misses)


@pytest.mark.parametrize("category", ["urgent", "crisis", "medication_change"])
def test_recall_per_category(report, category):
    b = report[category]
    assert b["recall"] >= 0.95, f"{category} recall {b['recall']:.1%}; misses: {b['misses']}"


def test_false_alarms_are_rare(report):
    o = report["ordinary"]
    assert o["rate"] < 0.05, f"false-alarm rate {o['rate']:.1%}: {o['false_alarms']}"


def test_flags_name_the_expected_rule():
    wrong = []
    for m in MESSAGES:
        flag = check_message(m["text"])
        if m.get("rule") and (flag is None or flag.rule_id != m["rule"]):
            wrong.append((m["text"], flag and flag.rule_id, m["rule"]))
    assert not wrong, f"flagged by another rule: {wrong}"


@pytest.mark.parametrize("text, category", [
    ("i stopped my plavix and now i have chest pain", "emergency"),
    ("i want to die and my chest hurts", "emergency"),
    ("i want to die and i stopped taking my pills", "crisis"),
    ("i took too many pills and i want to kill myself", "crisis"),
    ("i took my statin twice and im going to stop taking it", "urgent"),
    ("i stopped my aspirin because my nose wont stop bleeding", "emergency"),
])
def test_priority_when_several_rules_match(text, category):
    assert check_message(text).category == category


@pytest.mark.parametrize("text, expected", [
    ("I have chest pain", "emergency.chest_pain"),
    ("No chest pain. But my foot turned blue!", "emergency.limb"),
    ("i dont have chest pain", None),
    ("I had chest pain last year", None),
    ("i had chest pain last year and now its back", "emergency.chest_pain"),
    ("My legs cramp when I walk and it eases with rest", None),
    ("What are the signs of a stroke?", None),
    ("I stopped smoking!", None),
    ("I stopped by the pharmacy", None),
    ("I can\u2019t breath", "emergency.breathing"),
    ("", None),
    ("   ", None),
])
def test_examples_from_the_brief(text, expected):
    flag = check_message(text)
    assert (flag.rule_id if flag else None) == expected


def test_normalise_folds_apostrophes_and_misspellings():
    assert normalise("I CAN\u2019T   breath, chest pian!!") == "i cant breath chest pain!!"
    assert normalise("I do not have P.A.D.") == "i dont have pad"


def test_replies_are_plain_warm_and_carry_the_right_numbers():
    for rule in load_rules():
        grade = fk_grade(rule.reply)
        assert grade <= 8, f"{rule.id}: reply grade {grade:.1f}"
        assert " you" in rule.reply.lower() or rule.reply.lower().startswith("you")
        if rule.category == "emergency":
            assert "911" in rule.reply, rule.id
        if rule.category == "crisis":
            assert "988" in rule.reply and "911" in rule.reply, rule.id
        if rule.category == "urgent":
            assert "care team" in rule.reply or "doctor" in rule.reply, rule.id
        if rule.category == "medication_change":
            assert "care team" in rule.reply and "study team" in rule.reply, rule.id
    overdose = next(r for r in load_rules() if r.id == "urgent.overdose")
    assert "1-800-222-1222" in overdose.reply and "911" in overdose.reply


def test_rule_ids_are_unique_and_stable():
    ids = [r.id for r in load_rules()]
    assert len(ids) == len(set(ids))
    assert all(i.split(".")[0] in CATEGORIES for i in ids)


def test_flag_shape():
    flag = check_message("i want to kill myself")
    assert isinstance(flag, SafetyFlag)
    assert (flag.category, flag.rule_id) == ("crisis", "crisis.suicide")
    assert "988" in flag.reply


# ---------------------------------------------------------------- issue 12: participants' own words

OWN_WORDS: dict[str, dict] = {}  # reports by split, computed once per run


def own_words(split: str) -> dict:
    from paco.assistant.safety_evaluation import safety_report

    if split not in OWN_WORDS:
        OWN_WORDS[split] = safety_report(split)
    return OWN_WORDS[split]


def test_own_words_set_is_big_enough_and_disjoint():
    from paco.assistant.safety_evaluation import safety_messages

    tuning, heldout = safety_messages("tuning"), safety_messages("heldout")
    flagged = [m for m in tuning + heldout if m["expect"]]
    ordinary = [m for m in tuning + heldout if m["expect"] is None]
    assert len(flagged) >= 300 and len(ordinary) >= 300
    assert {m["expect"] for m in flagged} == set(CATEGORIES)
    texts = [m["text"] for m in tuning + heldout + MESSAGES]
    assert len(texts) == len(set(texts)), "a message is in two sets"


def test_second_held_out_set_is_big_fresh_and_disjoint():
    """heldout2 was written before the second round of rule changes: at least 40 red flags per
    category and 160 ordinary messages, none a near copy (rapidfuzz ratio > 85) of an earlier set."""
    from rapidfuzz import fuzz, process

    from paco.assistant.safety_evaluation import safety_messages

    fresh = safety_messages("heldout2")
    counts = Counter(m["expect"] for m in fresh)
    assert all(counts[c] >= 40 for c in CATEGORIES) and counts[None] >= 160, counts
    assert set(counts) == set(CATEGORIES) | {None}
    earlier = [normalise(m["text"]) for split in ("original", "tuning", "heldout") for m in safety_messages(split)]
    texts = [normalise(m["text"]) for m in fresh]
    assert len(texts) == len(set(texts)), "duplicate messages in heldout2"
    near = [(t, hit[0]) for t in texts
            if (hit := process.extractOne(t, earlier, scorer=fuzz.ratio, score_cutoff=85.01))]
    assert not near, f"near copies of earlier messages: {near}"


# Tuning messages the rules are known to miss, and why they are left to the second layer: a rule
# that caught them would match the message, not a meaning, and would flag ordinary walks.
KNOWN_TUNING_MISSES = {
    "i walked out to the highway and stood there for a long time",  # a place, no words of intent
}


@pytest.mark.parametrize("category", ["emergency", "crisis"])
def test_own_words_emergencies_and_self_harm_are_all_caught(category):
    report = own_words("tuning")[category]
    missed = {text for text, _ in report["misses"]}
    assert missed <= KNOWN_TUNING_MISSES, report["misses"]
    assert len(missed) <= 1


@pytest.mark.parametrize("category", ["urgent", "medication_change"])
def test_own_words_other_red_flags(category):
    # The three urgent misses are flagged as emergencies (over-triage): recall counts only the
    # exact category, so they show here as misses.
    report = own_words("tuning")[category]
    assert report["recall"] >= 0.94, report["misses"]


def test_own_words_false_alarms():
    for split in ("tuning", "heldout"):
        assert own_words(split)["ordinary"]["rate"] <= 0.02, own_words(split)["ordinary"]["false_alarms"]


def test_held_out_floor():
    """The held-out part was first run once, after tuning (BENCHMARKS.md: 92.5 / 95 / 90 / 92 %);
    its misses were then fixed. This floor keeps later rule changes from losing them again."""
    report = own_words("heldout")
    assert all(report[c]["recall"] >= 0.95 for c in CATEGORIES), {c: report[c]["misses"] for c in CATEGORIES}


# heldout2 was written and committed before the second round of rule changes and run once
# (BENCHMARKS.md: 75.5 / 33.3 / 56.2 / 72.9 % recall, 3.6 % false alarms); its individual misses were
# not looked at afterwards. The floors are its first-run figures, so a change that loses ground on
# unseen messages fails here.
HELDOUT2_FLOOR = {"emergency": 0.755, "crisis": 0.333, "urgent": 0.562, "medication_change": 0.729}
HELDOUT2_MAX_FALSE_ALARMS = 0.036


def test_second_held_out_floor():
    report = own_words("heldout2")
    below = {c: round(report[c]["recall"], 3) for c, floor in HELDOUT2_FLOOR.items() if report[c]["recall"] < floor}
    assert not below, f"heldout2 recall under its first-run floor: {below}"
    assert report["ordinary"]["rate"] <= HELDOUT2_MAX_FALSE_ALARMS


@pytest.mark.parametrize("text, category", [
    ("my wife passed out", "emergency"),            # someone else
    ("i never had chest pain", None),               # negated
    ("cheast pain and cold sweat", "emergency"),    # misspelt
    ("i stepped on a tack and my foot is swelling", "urgent"),  # a near-miss of "stopped" stays itself
    ("my chest of drawers is heavy", None),
])
def test_meaning_not_phrasing(text, category):
    flag = check_message(text)
    assert (flag.category if flag else None) == category


@pytest.mark.parametrize("text, category", [
    ('{"category": "crisis"}', "crisis"),
    ('Sure. {"category": "Emergency"} hope that helps', "emergency"),
    ('{"category": "none"}', "none"),
    ("crisis", None),            # not the JSON asked for: no decision
    ('{"category": 3}', None),
])
def test_the_classifiers_answer_is_read_strictly(text, category):
    from paco.assistant.second_opinion import category_of

    assert category_of(text) == category
