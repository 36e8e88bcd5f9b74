"""Every dashboard's numbers on the hand-made study of fixture.py, worked out by hand below."""
from __future__ import annotations

import pytest

from analytics import Filters, build
from paco.extensions import db
from paco.services import rollups

from . import fixture


@pytest.fixture(params=["live", "rolled", "part rolled"])
def study(app, request, monkeypatch):
    """The same numbers whether the dashboards' rollups hold none, all or part of the study (the
    rest is read live from the raw rows)."""
    cohorts = fixture.load()
    if request.param == "rolled":
        rollups.refresh(db.engine)
    elif request.param == "part rolled":  # the first 3 messages and turns, and A1's first conversation
        monkeypatch.setattr(rollups, "CHUNK", 3)
        rollups.refresh(db.engine, max_steps=1)
    return cohorts


def board(name, min_cell=1, **args):
    filters = Filters.from_args({**fixture.RANGE, **args}, min_cell=min_cell)
    return build(name, db.session.connection(), filters)


def rows(panel_or_table, *columns):
    table = getattr(panel_or_table, "table", panel_or_table)
    return [tuple(r) for r in table[list(columns)].itertuples(index=False)]


def test_overview(study):
    summary = board("overview").panel("summary").table.set_index("cohort")
    # Enrolled by 31 Jan; active: a question in 25-31 Jan (A1 on the 28th, B1 on the 30th) or in 2-31 Jan
    # (A2 on the 15th too); v2 acknowledged by A1 and B1; A asked 4 (2 spoken), B 1 typed; one escalation.
    assert summary.loc["Arm A"].to_dict() == {"enrolled": 3, "active_7d": 1, "active_30d": 2,
                                              "acknowledged_current": 1, "questions": 4, "voice": 2, "typed": 2,
                                              "escalations": 1, "voice_share": 0.5}
    assert summary.loc["Arm B"].to_dict() == {"enrolled": 1, "active_7d": 1, "active_30d": 1,
                                              "acknowledged_current": 1, "questions": 1, "voice": 0, "typed": 1,
                                              "escalations": 0, "voice_share": 0.0}
    assert summary.loc["All cohorts", "questions"] == 5 and summary.loc["All cohorts", "voice_share"] == 0.4


def test_overview_filters_and_suppression(study):
    only_b = board("overview", cohort=[str(study["Arm B"])]).panel("summary").table
    assert list(only_b["cohort"]) == ["Arm B", "All cohorts"]
    withdrawn = board("overview", status=["withdrawn"]).panel("summary").table.set_index("cohort")
    assert withdrawn.loc["Arm A", "enrolled"] == 1 and withdrawn.loc["Arm A", "questions"] == 0
    # The first half of January: only A1's two questions (2 Jan) and A2's (15 Jan).
    early = board("overview", to="2026-01-15").panel("summary").table.set_index("cohort")
    assert early.loc["Arm A", "questions"] == 3 and early.loc["Arm B", "questions"] == 0
    small = board("overview", min_cell=3).panel("summary").table.set_index("cohort")
    assert small.loc["Arm A", "questions"] == 4 and small.loc["Arm B", "questions"] == "<3"
    assert small.loc["Arm A", "voice"] == "<3" and small.loc["Arm A", "voice_share"] is None
    assert small.loc["Arm B", "escalations"] == 0  # zero identifies no one


def test_engagement(study):
    b = board("engagement")
    per_day = b.panel("questions_per_day").table
    nonzero = per_day[per_day["questions"] > 0]
    assert rows(nonzero, "day", "cohort", "questions") == [
        ("2026-01-02", "Arm A", 2), ("2026-01-15", "Arm A", 1), ("2026-01-28", "Arm A", 1), ("2026-01-30", "Arm B", 1)]
    assert len(per_day) == 31 * 2  # every day of the range, for each cohort
    talks = b.panel("conversations_per_day").table
    assert rows(talks[talks["conversations"] > 0], "day", "cohort", "conversations") == [
        ("2026-01-02", "Arm A", 1), ("2026-01-15", "Arm A", 1), ("2026-01-28", "Arm A", 1), ("2026-01-30", "Arm B", 1)]
    spread = b.panel("per_participant").table
    assert rows(spread[spread["participants"] > 0], "questions", "cohort", "participants") == [
        ("0", "Arm A", 1), ("1-4", "Arm A", 2), ("1-4", "Arm B", 1)]
    retention = b.panel("retention").table
    # Weeks since enrolment of each question: A1 weeks 0 and 3, A2 week 2, B1 week 2. A week counts once
    # over: A1 and A2 have 4 whole weeks by 1 Feb, A3 and B1 three.
    assert rows(retention[retention["week"] <= 4], "cohort", "week", "active", "eligible") == [
        ("Arm A", 0, 1, 3), ("Arm A", 1, 0, 3), ("Arm A", 2, 1, 3), ("Arm A", 3, 1, 2), ("Arm A", 4, 0, 0),
        ("Arm B", 0, 0, 1), ("Arm B", 1, 0, 1), ("Arm B", 2, 1, 1), ("Arm B", 3, 0, 0), ("Arm B", 4, 0, 0)]
    assert retention.iloc[0]["share_active"] == round(1 / 3, 3)
    lengths = b.panel("conversation_length").table
    assert rows(lengths[lengths["conversations"] > 0], "questions", "cohort", "conversations") == [
        (1, "Arm A", 2), (1, "Arm B", 1), (2, "Arm A", 1)]
    hours = b.panel("time_of_day").table
    assert rows(hours[hours["questions"] > 0], "hour", "cohort", "questions") == [
        (8, "Arm A", 1), (9, "Arm A", 2), (12, "Arm B", 1), (20, "Arm A", 1)]


def test_engagement_per_participant_panels_follow_the_filters(study):
    """The spread, retention and conversation lengths keep only the filtered participants."""
    only_b = board("engagement", cohort=[str(study["Arm B"])])
    spread = only_b.panel("per_participant").table
    assert rows(spread[spread["participants"] > 0], "questions", "cohort", "participants") == [("1-4", "Arm B", 1)]
    assert rows(only_b.panel("retention").table[lambda t: t["week"] <= 3], "cohort", "week", "active", "eligible") == [
        ("Arm B", 0, 0, 1), ("Arm B", 1, 0, 1), ("Arm B", 2, 1, 1), ("Arm B", 3, 0, 0)]
    lengths = only_b.panel("conversation_length").table
    assert rows(lengths[lengths["conversations"] > 0], "questions", "cohort", "conversations") == [(1, "Arm B", 1)]
    # A3, the one withdrawn, asked nothing; enrolled three whole weeks by 1 Feb.
    withdrawn = board("engagement", status=["withdrawn"])
    spread = withdrawn.panel("per_participant").table
    assert rows(spread[spread["participants"] > 0], "questions", "cohort", "participants") == [("0", "Arm A", 1)]
    retention = withdrawn.panel("retention").table
    assert rows(retention[retention["cohort"] == "Arm A"][lambda t: t["week"] <= 3], "week", "active", "eligible") == [
        (0, 0, 1), (1, 0, 1), (2, 0, 1), (3, 0, 0)]
    assert withdrawn.panel("conversation_length").table["conversations"].sum() == 0


def test_adherence_follows_the_cohort_filter(study):
    only_a = board("adherence", cohort=[str(study["Arm A"])])
    assert rows(only_a.panel("over_time"), "week", "cohort", "measure", "participants", "mean") == [
        ("2026-01-05", "Arm A", "pill_count", 1, 0.7), ("2026-01-05", "Arm A", "self_report", 2, 0.7),
        ("2026-01-12", "Arm A", "self_report", 1, 1.0)]
    assert rows(only_a.panel("adherent"), "week", "participants", "adherent") == [("2026-01-05", 2, 1),
                                                                                ("2026-01-12", 1, 1)]
    assert rows(only_a.panel("engagement"), "research_id", "questions", "mean_adherence") == [
        ("A1", 3, 0.867), ("A2", 1, 0.5)]


def test_adherence(study):
    b = board("adherence")
    assert rows(b.panel("over_time"), "week", "cohort", "measure", "participants", "mean") == [
        ("2026-01-05", "Arm A", "pill_count", 1, 0.7), ("2026-01-05", "Arm A", "self_report", 2, 0.7),
        ("2026-01-12", "Arm A", "self_report", 1, 1.0), ("2026-01-12", "Arm B", "refill_pdc", 1, 0.85)]
    # A1's week of 5 Jan: (0.9 + 0.7) / 2 = 0.8, adherent; A2's 0.5 is not.
    assert rows(b.panel("adherent"), "week", "cohort", "participants", "adherent", "share_adherent") == [
        ("2026-01-05", "Arm A", 2, 1, 0.5), ("2026-01-12", "Arm A", 1, 1, 1.0), ("2026-01-12", "Arm B", 1, 1, 1.0)]
    assert rows(b.panel("engagement"), "research_id", "questions", "mean_adherence") == [
        ("A1", 3, 0.867), ("A2", 1, 0.5), ("B1", 1, 0.85)]
    # No record since 18 Jan (14 days up to the 31st; 20 days: since 12 Jan); A3 is withdrawn.
    assert rows(b.panel("worklist"), "research_id", "last_record") == [
        ("A2", "2026-01-05"), ("A1", "2026-01-12"), ("B1", "2026-01-13")]
    assert rows(board("adherence", stale_days="20").panel("worklist"), "research_id") == [("A2",)]


def test_disclaimers(study):
    b = board("disclaimers")
    assert rows(b.panel("by_week"), "week", "version", "acknowledgments") == [
        ("2025-12-29", 1, 2), ("2026-01-05", 1, 2), ("2026-01-19", 2, 2)]
    assert rows(b.panel("coverage"), "cohort", "participants", "acknowledged", "share") == [
        ("Arm A", 2, 1, 0.5), ("Arm B", 1, 1, 1.0)]
    assert rows(b.panel("pending"), "research_id", "last_version") == [("A2", "v1")]


def test_conversations(study):
    b = board("conversations")
    assert rows(b.panel("topics_by_week"), "week", "topic", "questions") == [
        ("2025-12-29", "Side effects", 1), ("2025-12-29", "Walking / exercise", 1), ("2026-01-12", "Diet", 1),
        ("2026-01-26", "Smoking", 1), ("2026-01-26", "Symptoms", 1)]
    topics = b.panel("topics_by_cohort").table
    assert rows(topics[topics["questions"] > 0], "cohort", "topic", "questions", "share") == [
        ("Arm A", "Side effects", 1, 0.25), ("Arm A", "Diet", 1, 0.25), ("Arm A", "Walking / exercise", 1, 0.25),
        ("Arm A", "Symptoms", 1, 0.25), ("Arm B", "Smoking", 1, 1.0)]
    assert rows(b.panel("questions_per_conversation"), "cohort", "conversations", "questions", "mean_questions") == [
        ("Arm A", 3, 4, 1.33), ("Arm B", 1, 1, 1.0)]
    assert rows(b.panel("escalations"), "rule", "layer", "cohort", "questions") == [
        ("emergency.chest_pain", "rules", "Arm A", 1)]
    assert [r[0] for r in rows(b.panel("recent"), "conversation_id")] == ["cB1", "cA1b", "cA2", "cA1a"]


def test_escalations_count_by_layer(study):
    """A question the rules missed and the classifier caught has its own row, by layer."""
    from paco.models import Message

    from .fixture import at

    for when, layer, category, rule in ((at(30, 12, 10), "classifier", "crisis", "classifier.crisis"),
                                        (at(30, 12, 20), "classifier", "crisis", "classifier.crisis"),
                                        (at(30, 12, 30), "rules", "urgent", "urgent.foot_wound")):
        db.session.add(Message(conversation_id="cB1", role="user", content="...", created_at=when,
                               safety_category=category, safety_rule=rule, safety_layer=layer))
    db.session.commit()
    # By hand: Arm A's chest pain (rules) from the fixture; Arm B two classifier catches and one rule.
    assert rows(board("conversations").panel("escalations"), "rule", "layer", "cohort", "questions") == [
        ("classifier.crisis", "classifier", "Arm B", 2), ("emergency.chest_pain", "rules", "Arm A", 1),
        ("urgent.foot_wound", "rules", "Arm B", 1)]


def test_latency(study):
    b = board("latency")
    per_day = b.panel("per_day").table
    first = per_day[per_day["measure"] == "first token"]
    # Nearest rank: the p50 of two turns is the lower, the p95 the higher.
    assert rows(first, "day", "turns", "p50_ms", "p95_ms") == [
        ("2026-01-02", 2, 300.0, 500.0), ("2026-01-28", 1, 100.0, 100.0), ("2026-01-30", 1, 200.0, 200.0)]
    whole = per_day[per_day["measure"] == "whole turn"]
    assert rows(whole, "day", "p50_ms", "p95_ms") == [("2026-01-02", 1200.0, 2000.0), ("2026-01-15", 5000.0, 5000.0),
                                                       ("2026-01-28", 400.0, 400.0), ("2026-01-30", 800.0, 800.0)]
    # openai first tokens 100, 300, 500 (the failed turn has none); totals 400, 1200, 2000, 5000.
    assert rows(b.panel("providers"), "provider", "model", "turns", "first_token_p50_ms", "first_token_p95_ms",
                "total_p50_ms", "total_p95_ms") == [("groq", "m2", 1, 200.0, 200.0, 800.0, 800.0),
                                                    ("openai", "m1", 4, 300.0, 500.0, 1200.0, 5000.0)]
    assert rows(b.panel("tts"), "day", "turns", "p50_ms", "p95_ms", "cache_hit_ratio") == [
        ("2026-01-02", 2, 100.0, 200.0, 0.25)]
    assert rows(b.panel("errors"), "day", "turns", "failed", "fallback", "tts_errors") == [
        ("2026-01-02", 2, 0, 0, 0), ("2026-01-15", 1, 1, 0, 0), ("2026-01-28", 1, 0, 0, 0), ("2026-01-30", 1, 0, 1, 1)]


@pytest.fixture
def with_checkins(study):
    fixture.load_checkins()
    return study


def test_checkins_by_week_and_cohort(with_checkins):
    b = board("adherence")
    # Week of 5 Jan, Arm A: A1 (5th: none then some; 6th: all), A2 (6th: some), A3 (7th: some) → 3 people,
    # 4 days, by each day's latest answer 1 all, 3 some, 0 none, 1 day changed; share all 1/4.
    # Week of 12 Jan: Arm A A1 (13th: none); Arm B B1 (14th: none, changed; 15th: all).
    assert rows(b.panel("checkins"), "week", "cohort", "participants", "days", "all", "some", "none", "changed",
                "share_all") == [("2026-01-05", "Arm A", 3, 4, 1, 3, 0, 1, 0.25),
                                 ("2026-01-12", "Arm A", 1, 1, 0, 0, 1, 0, 0.0),
                                 ("2026-01-12", "Arm B", 1, 2, 1, 0, 1, 1, 0.5)]
    active = board("adherence", status=["active"]).panel("checkins")  # A3 is withdrawn
    assert rows(active, "week", "cohort", "participants", "days", "some")[0] == ("2026-01-05", "Arm A", 2, 3, 2)
    only_b = board("adherence", cohort=[str(with_checkins["Arm B"])], to="2026-01-14").panel("checkins")
    assert rows(only_b, "cohort", "days", "none", "changed") == [("Arm B", 1, 1, 1)]


def test_barrier_counts_by_cohort(with_checkins):
    barriers = board("adherence").panel("barriers").table
    assert len(barriers) == 2 * 6  # every cohort × barrier, zeros included
    # Each day's latest answer: Arm A forgot (A1 5th, A2 6th) and cost (A1 13th, A3 7th); Arm B on purpose
    # (B1 14th: side effects first, then on purpose).
    named = barriers[barriers["days"] > 0]
    assert rows(named, "cohort", "barrier", "days", "share") == [
        ("Arm A", "forgot", 2, 0.5), ("Arm A", "cost", 2, 0.5), ("Arm B", "on_purpose", 1, 1.0)]
    small = board("adherence", min_cell=3).panel("barriers").table.set_index(["cohort", "barrier"])
    assert small.loc[("Arm A", "forgot"), "days"] == "<3" and small.loc[("Arm A", "forgot"), "share"] is None
    assert small.loc[("Arm A", "ran_out"), "days"] == 0
    weekly = board("adherence", min_cell=3).panel("checkins").table
    first = weekly.iloc[0]
    shown = tuple(first[name] for name in ("participants", "days", "all", "some", "changed", "share_all"))
    assert shown == (3, 4, "<3", 3, "<3", 0.25)


def test_a_check_in_answer_in_the_chat_is_not_a_question(with_checkins):
    summary = board("overview").panel("summary").table.set_index("cohort")
    assert summary.loc["Arm A", "questions"] == 4 and summary.loc["All cohorts", "questions"] == 5
    per_day = board("engagement").panel("questions_per_day").table
    assert rows(per_day[per_day["questions"] > 0], "day", "cohort", "questions")[0] == ("2026-01-02", "Arm A", 2)
    topics = board("conversations").panel("topics_by_cohort").table
    assert topics[topics["cohort"] == "Arm A"]["questions"].sum() == 4
    assert rows(board("adherence").panel("engagement"), "research_id", "questions")[0] == ("A1", 3)
