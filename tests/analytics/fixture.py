"""A small study whose every dashboard number is worked out by hand in the tests (January 2026)."""
from __future__ import annotations

from datetime import date, datetime, timezone

from paco.extensions import db
from paco.models import (
    AdherenceRecord,
    Cohort,
    Conversation,
    Disclaimer,
    DisclaimerAcknowledgment,
    Message,
    ResearchID,
    TurnMetrics,
)

RANGE = {"from": "2026-01-01", "to": "2026-01-31"}


def at(day: int, hour: int = 0, minute: int = 0, second: int = 0, month: int = 1, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=timezone.utc)


def load() -> dict[str, int]:
    """Cohorts Arm A (A1, A2 active; A3 withdrawn) and Arm B (B1); disclaimer v1 and v2."""
    arm_a, arm_b = Cohort(name="Arm A"), Cohort(name="Arm B")
    db.session.add_all([arm_a, arm_b])
    db.session.flush()
    for rid, cohort, status, enrolled in (("A1", arm_a, "active", at(1)), ("A2", arm_a, "active", at(1)),
                                          ("A3", arm_a, "withdrawn", at(5)), ("B1", arm_b, "active", at(10))):
        db.session.add(ResearchID(research_id=rid, cohort_id=cohort.id, status=status, enrolled_at=enrolled,
                                  created_at=enrolled))
    v1 = Disclaimer(version=1, text="v1", content_hash="h1", published_at=at(1, month=12, year=2025))
    v2 = Disclaimer(version=2, text="v2", content_hash="h2", published_at=at(20))
    db.session.add_all([v1, v2])
    db.session.flush()
    for rid, disclaimer, when in (("A1", v1, at(1, 10)), ("A2", v1, at(1, 11)), ("A3", v1, at(5, 9)),
                                  ("B1", v1, at(10, 9)), ("A1", v2, at(21, 9)), ("B1", v2, at(25, 9))):
        db.session.add(DisclaimerAcknowledgment(research_id=rid, disclaimer_id=disclaimer.id,
                                                version=disclaimer.version, content_hash=disclaimer.content_hash,
                                                acknowledged_at=when))
    for rid, conversation, when in (("A1", "cA1a", at(2, 9)), ("A1", "cA1b", at(28, 20)), ("A2", "cA2", at(15, 8)),
                                    ("B1", "cB1", at(30, 12))):
        db.session.add(Conversation(research_id=rid, conversation_id=conversation, created_at=when, updated_at=when))
    db.session.flush()
    turns = [
        # conversation, asked at, question, input, topic, safety, answer status, provider, model, metrics
        ("cA1a", at(2, 9), "How far should I walk?", "voice", "walking_exercise", None, "complete", "openai", "m1",
         dict(first_token_ms=300, total_ms=1200, first_audio_ms=500, tts_ms=200, sentences=2, audio_cache_hits=1)),
        ("cA1a", at(2, 9, 5), "Is muscle pain a side effect?", "text", "side_effects", None, "complete", "openai",
         "m1", dict(first_token_ms=500, total_ms=2000, first_audio_ms=700, tts_ms=100, sentences=2)),
        ("cA1b", at(28, 20), "I have chest pain right now", "text", "symptoms", ("emergency", "emergency.chest_pain"),
         "complete", "openai", "m1", dict(first_token_ms=100, total_ms=400)),
        ("cA2", at(15, 8), "Should I eat less salt?", "voice", "diet", None, "failed", "openai", "m1",
         dict(total_ms=5000, provider_errors=1)),
        ("cB1", at(30, 12), "How do I quit smoking?", "text", "smoking", None, "complete", "groq", "m2",
         dict(first_token_ms=200, total_ms=800, provider_errors=1, tts_errors=1)),
    ]
    for conversation, asked, question, entered, topic, safety, status, provider, model, timings in turns:
        category, rule = safety or (None, None)
        db.session.add(Message(conversation_id=conversation, role="user", content=question, created_at=asked,
                               input=entered, topic=topic, safety_category=category, safety_rule=rule,
                               safety_layer=category and "rules"))
        answer = Message(conversation_id=conversation, role="assistant", content="" if status == "failed" else "ok",
                         created_at=asked.replace(second=1), status=status, provider=provider, model=model,
                         safety_category=category, safety_rule=rule)
        db.session.add(answer)
        db.session.flush()
        db.session.add(TurnMetrics(message_id=answer.id, created_at=answer.created_at, **timings))
    for rid, day, measure, value in (("A1", date(2026, 1, 5), "self_report", 0.9),
                                     ("A1", date(2026, 1, 6), "pill_count", 0.7),
                                     ("A1", date(2026, 1, 12), "self_report", 1.0),
                                     ("A2", date(2026, 1, 5), "self_report", 0.5),
                                     ("B1", date(2026, 1, 13), "refill_pdc", 0.85)):
        db.session.add(AdherenceRecord(research_id=rid, date=day, measure=measure, value=value, source="test"))
    db.session.commit()
    return {"Arm A": arm_a.id, "Arm B": arm_b.id}


# Check-ins, answered through the service as the chat page does (each at noon UTC of its day):
# (research ID, day, taken, reason). A1 changes the 5th (none → some) and B1 the 14th (reason).
CHECKINS = [("A1", 5, "none", "forgot"), ("A1", 5, "some", "forgot"), ("A1", 6, "all", None),
            ("A1", 13, "none", "cost"), ("A2", 6, "some", "forgot"), ("A3", 7, "some", "cost"),
            ("B1", 14, "none", "side_effects"), ("B1", 14, "none", "on_purpose"), ("B1", 15, "all", None)]


def load_checkins() -> None:
    """The answers above, and A1's answer to the card stored in the chat (never counted as a question)."""
    from paco.services import checkins

    for research_id, day, taken, reason in CHECKINS:
        participant = db.session.execute(db.select(ResearchID).filter_by(research_id=research_id)).scalar_one()
        checkins.record(participant, taken, reason, now=at(day, 12))
    db.session.add(Message(conversation_id="cA1a", role="user", input="checkin", created_at=at(5, 12, 1),
                           content="Check-in: I took some of my P.A.D. medicines today. "
                                   "What got in the way: I forgot."))
    db.session.commit()
