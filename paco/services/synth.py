"""Synthetic study data for demos and benchmarks (``flask demo synth``), written with bulk Core inserts.

The model, per participant: enrolled at a random point in the first 60 % of the window, into one
of three arms; an engagement level (log-normal) that decays after enrolment towards a floor; on
an active day one or two conversations of a few questions, each answered, with turn metrics whose
latencies follow the arm's provider; questions spoken rather than typed more often in the voice
arm; medication adherence that rises with engagement (measured weekly by self-report, monthly by
pill count and refill PDC, daily by MEMS for some); the disclaimer acknowledged at enrolment and,
for most, the newer version after it was published; a few withdraw or pause.

Rows are generated and inserted a batch of participants at a time and committed per batch, so
memory stays small for a million messages. Message ids are assigned here (turn metrics refer to
them), so nothing else should write messages while it runs; PostgreSQL's sequence is moved past
them at the end.
"""
from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable

import sqlalchemy as sa

from ..errors import Conflict, InvalidInput
from ..models import (
    AdherenceRecord,
    Cohort,
    Conversation,
    Disclaimer,
    DisclaimerAcknowledgment,
    Message,
    ResearchID,
    TurnMetrics,
)
from . import rollups
from .topics import topic_of

BATCH_PARTICIPANTS = 200
INSERT_CHUNK = 5000
MAX_PARTICIPANTS = 1_000_000
MAX_DAYS = 3650


@dataclass(frozen=True)
class Arm:
    name: str
    description: str
    provider: str
    model: str | None
    tts: bool
    voice_share: float       # of questions spoken rather than typed
    first_token_ms: float    # median
    engagement: float        # multiplies the participant's level


ARMS = (
    Arm("Synthetic arm A (GPT, voice)", "Synthetic study: OpenAI answers, spoken replies.", "openai",
        "gpt-4o-mini", True, 0.55, 650.0, 1.0),
    Arm("Synthetic arm B (Llama, voice)", "Synthetic study: Groq answers, spoken replies.", "groq",
        "llama-3.1-8b-instant", True, 0.45, 320.0, 0.9),
    Arm("Synthetic arm C (curated, text)", "Synthetic study: curated answers, text only.", "curated",
        None, False, 0.1, 25.0, 0.7),
)

QUESTIONS = {
    "medications": ["Why do I need to take aspirin every day?", "What happens if I forget to take my statin?",
                    "Can I take my pills at night instead of the morning?", "How long do I keep taking clopidogrel?",
                    "I missed a dose yesterday, what should I do?", "Do I need a refill before my next visit?"],
    "side_effects": ["Is muscle pain a side effect of my statin?", "My aspirin gives me an upset stomach.",
                     "I bruise easily since starting the blood thinner, is that normal?",
                     "Can cilostazol make me dizzy?"],
    "walking_exercise": ["How far should I walk each day?", "Is it okay to keep walking when my calf hurts a bit?",
                         "What exercise is best for P.A.D.?", "Can I use a treadmill instead of walking outside?"],
    "smoking": ["How can I quit smoking?", "Does vaping hurt my arteries too?",
                "I smoked two cigarettes today, is that bad?"],
    "diet": ["What foods are good for my arteries?", "Should I eat less salt?", "Can I drink alcohol with my meds?",
             "Is grapefruit a problem with my statin?"],
    "symptoms": ["My legs cramp when I walk, why?", "My toes feel numb and cold.", "I have a sore on my foot.",
                 "Why do my legs feel heavy in the evening?"],
    "other": ["What does P.A.D. stand for?", "Who can I call about the study?", "Thank you PaCo!",
              "Can you say that again more simply?"],
}
TOPIC_WEIGHTS = {"medications": 30, "side_effects": 12, "walking_exercise": 18, "smoking": 8, "diet": 10,
                 "symptoms": 14, "other": 8}
REPLIES = {
    "medications": "Taking your medicine every day, even when you feel fine, protects your legs and heart.",
    "side_effects": "Some people notice that. Please tell your care team before you change anything.",
    "walking_exercise": "Walking most days helps. Walk until the pain is moderate, rest, then walk again.",
    "smoking": "Quitting smoking is the best thing you can do for P.A.D. Your care team can help you quit.",
    "diet": "Eating more vegetables and less salt and fat helps your arteries.",
    "symptoms": "That can happen with P.A.D. If it is new or getting worse, call your care team.",
    "other": "PaCo is here to help you learn about P.A.D. and your medicines.",
}
SAFETY_QUESTIONS = [("I have chest pain right now", "emergency", "emergency.chest_pain"),
                    ("My foot went cold and pale suddenly", "emergency", "emergency.limb"),
                    ("I want to stop taking my statin", "medication_change", "medication_change.stop"),
                    ("I have a wound on my foot that won't heal", "urgent", "urgent.foot_wound")]


@dataclass
class SynthResult:
    participants: int = 0
    conversations: int = 0
    messages: int = 0
    turn_metrics: int = 0
    acknowledgments: int = 0
    adherence_records: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def synthesize(engine: sa.Engine, participants: int, days: int, seed: int = 0, *,
               disclaimer_text: str | None = None, now: datetime | None = None,
               progress: Callable[[int], None] | None = None) -> SynthResult:
    """Write a synthetic study of ``participants`` research IDs over the last ``days`` days.

    Research IDs are ``SYN<seed>-00001``...: a seed already used is refused. ``progress(n)`` is
    called after each batch with the number of participants written in it.
    """
    if not 1 <= participants <= MAX_PARTICIPANTS:
        raise InvalidInput("invalid_participants", f"--participants must be between 1 and {MAX_PARTICIPANTS}.")
    if not 7 <= days <= MAX_DAYS:
        raise InvalidInput("invalid_days", f"--days must be between 7 and {MAX_DAYS}.")
    now = (now or datetime.now(timezone.utc)).replace(microsecond=0)
    start = now - timedelta(days=days)
    prefix = f"SYN{seed}-"
    rng = random.Random(seed)
    result = SynthResult()
    with engine.connect() as conn:
        if conn.execute(sa.select(ResearchID.id).where(ResearchID.research_id == f"{prefix}00001")).first():
            raise Conflict("synthetic_exists", f"A synthetic study with seed {seed} exists already: "
                                               "choose another --seed.")
        arms = _cohorts(conn)
        versions = _disclaimers(conn, start, days, disclaimer_text)
        next_message_id = (conn.execute(sa.select(sa.func.max(Message.id))).scalar() or 0) + 1
        conn.commit()
        for first in range(0, participants, BATCH_PARTICIPANTS):
            count = min(BATCH_PARTICIPANTS, participants - first)
            rows = _Batch()
            for n in range(first + 1, first + count + 1):
                _participant(rows, rng, f"{prefix}{n:05d}", arms, versions, start, now, days, next_message_id)
                next_message_id = rows.next_message_id
            rows.insert(conn)
            conn.commit()
            rows.add_to(result)
            if progress:
                progress(count)
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT setval(pg_get_serial_sequence('messages', 'id'), "
                                 "(SELECT COALESCE(MAX(id), 1) FROM messages))"))
            conn.commit()
    # The dashboards' rollups, at once: the study's ids do not follow time (written participant by
    # participant), so one step over every row costs less than chunks that each touch every day.
    rollups.refresh(engine, chunk=2**31 - 1)
    return result


def _cohorts(conn) -> list[tuple[Arm, int]]:
    table = Cohort.__table__
    found = []
    for arm in ARMS:
        cohort_id = conn.execute(sa.select(table.c.id).where(table.c.name == arm.name)).scalar()
        if cohort_id is None:
            cohort_id = conn.execute(table.insert().values(
                name=arm.name, description=arm.description, llm_provider=arm.provider, llm_model=arm.model,
                tts_enabled=arm.tts, created_at=datetime.now(timezone.utc)).returning(table.c.id)).scalar_one()
        found.append((arm, cohort_id))
    return found


def _disclaimers(conn, start: datetime, days: int, text: str | None) -> list[tuple[int, int, str, datetime]]:
    """The published versions (id, version, hash, published_at); a fresh database gets v1 at the
    window's start and v2 two thirds in, so that re-acknowledgment shows."""
    table = Disclaimer.__table__
    published = conn.execute(sa.select(table.c.id, table.c.version, table.c.content_hash, table.c.published_at)
                             .where(table.c.published_at.is_not(None)).order_by(table.c.version)).all()
    if published:
        return [tuple(row) for row in published]
    base = text or "PaCo gives general education only. It is not a doctor, nurse or pharmacist."
    texts = [base, base + "\n\nNew in version 2: the study team may read your chats to improve PaCo."]
    for version, (body, when) in enumerate(zip(texts, (start, start + timedelta(days=days * 2 / 3))), 1):
        conn.execute(table.insert().values(version=version, text=body,
                                           content_hash=hashlib.sha256(body.encode("utf-8")).hexdigest(),
                                           created_at=when, published_at=when))
    return _disclaimers(conn, start, days, text)


class _Batch:
    def __init__(self):
        self.tables: dict[str, list[dict]] = {name: [] for name in (
            "research_ids", "disclaimer_acknowledgments", "conversations", "messages", "turn_metrics",
            "adherence_records")}
        self.next_message_id = 0

    def insert(self, conn) -> None:
        # Parents first: the foreign keys hold at every statement.
        for model in (ResearchID, DisclaimerAcknowledgment, Conversation, Message, TurnMetrics, AdherenceRecord):
            table = model.__table__
            rows = self.tables[table.name]
            for i in range(0, len(rows), INSERT_CHUNK):
                conn.execute(table.insert(), rows[i:i + INSERT_CHUNK])

    def add_to(self, result: SynthResult) -> None:
        result.participants += len(self.tables["research_ids"])
        result.acknowledgments += len(self.tables["disclaimer_acknowledgments"])
        result.conversations += len(self.tables["conversations"])
        result.messages += len(self.tables["messages"])
        result.turn_metrics += len(self.tables["turn_metrics"])
        result.adherence_records += len(self.tables["adherence_records"])


def _participant(rows: _Batch, rng: random.Random, research_id: str, arms, versions, start: datetime,
                 now: datetime, days: int, next_message_id: int) -> None:
    arm, cohort_id = arms[rng.randrange(len(arms))]
    enrolled = start + timedelta(seconds=rng.uniform(0, days * 0.6 * 86400))
    status, changed = "active", enrolled
    roll = rng.random()
    if roll < 0.07:
        status, changed = "withdrawn", enrolled + (now - enrolled) * rng.uniform(0.2, 0.9)
    elif roll < 0.12:
        status, changed = "paused", enrolled + (now - enrolled) * rng.uniform(0.3, 0.95)
    active_until = changed if status != "active" else now
    rows.tables["research_ids"].append(dict(research_id=research_id, cohort_id=cohort_id, status=status,
                                            created_at=enrolled, enrolled_at=enrolled, status_changed_at=changed))
    # Engagement: a level per person; a participant who never chats exists in every study.
    level = 0.0 if rng.random() < 0.08 else rng.lognormvariate(-0.9, 0.6) * arm.engagement
    decay_days = rng.uniform(20, 90)
    for disclaimer_id, version, content_hash, published in versions:
        if published <= enrolled and (version == versions[-1][1] or _next_published(versions, version) > enrolled):
            ack_at = enrolled + timedelta(minutes=rng.uniform(1, 30))
        elif published > enrolled and rng.random() < 0.6 + 0.4 * min(level, 1.0):
            ack_at = published + timedelta(days=rng.expovariate(1 / 5))
        else:
            continue
        if ack_at < active_until:
            rows.tables["disclaimer_acknowledgments"].append(dict(
                research_id=research_id, disclaimer_id=disclaimer_id, version=version, content_hash=content_hash,
                acknowledged_at=ack_at, user_agent="synthetic"))
    message_id = next_message_id
    active_days = 0
    in_study = (active_until - enrolled).days + 1
    for day in range(in_study):
        p_active = min(0.95, level * (0.7 * math.exp(-day / decay_days) + 0.15))
        if rng.random() >= p_active:
            continue
        active_days += 1
        day_start = enrolled.replace(hour=0, minute=0, second=0) + timedelta(days=day)
        for c in range(1 if rng.random() < 0.75 else 2):
            when = day_start + timedelta(hours=_hour_of_day(rng), minutes=rng.uniform(0, 59))
            if when >= active_until or when < enrolled:
                continue
            conversation_id, began = f"{research_id}-{day}-{c}", when
            questions = 1 + min(int(rng.expovariate(1 / 1.6)), 11)
            for _ in range(questions):
                message_id = _turn(rows, rng, arm, conversation_id, when, message_id)
                when += timedelta(seconds=rng.uniform(20, 240))
            rows.tables["conversations"].append(dict(research_id=research_id, conversation_id=conversation_id,
                                                     created_at=began, updated_at=when))
    rows.next_message_id = message_id
    _adherence(rows, rng, research_id, enrolled, active_until, level, active_days / max(in_study, 1))


def _next_published(versions, version: int) -> datetime:
    return next(published for _, v, _, published in versions if v == version + 1)


def _hour_of_day(rng: random.Random) -> float:
    # Mornings and evenings, as people take their medicines.
    return min(23.0, max(6.0, rng.choice((8.5, 12.5, 19.5)) + rng.gauss(0, 1.8)))


def _turn(rows: _Batch, rng: random.Random, arm: Arm, conversation_id: str, when: datetime, message_id: int) -> int:
    safety = None
    if rng.random() < 0.006:
        question, category, rule = rng.choice(SAFETY_QUESTIONS)
        safety = (category, rule)
    else:
        topic = rng.choices(list(TOPIC_WEIGHTS), weights=list(TOPIC_WEIGHTS.values()))[0]
        question = rng.choice(QUESTIONS[topic])
    spoken = rng.random() < arm.voice_share
    messages = rows.tables["messages"]
    messages.append(dict(id=message_id, conversation_id=conversation_id, role="user", content=question,
                         created_at=when, status="complete", topic=topic_of(question),
                         input="voice" if spoken else "text", provider=None, model=None, prompt_version=None,
                         safety_category=safety and safety[0],
                         safety_rule=safety and safety[1], safety_layer=safety and "rules"))
    failed = rng.random() < 0.004
    provider_errors = 1 if failed or rng.random() < 0.01 else 0
    first_token = rng.lognormvariate(math.log(arm.first_token_ms), 0.35)
    if provider_errors and not failed:  # answered by the fallback, after the first provider failed
        first_token += rng.uniform(400, 1500)
    reply = "" if failed else (REPLIES[topic_of(question)] if not safety else "Please call 911 or your care team now.")
    tokens = len(reply) // 4
    total = first_token + tokens * rng.uniform(20, 30)
    first_sentence = first_token + rng.uniform(80, 400)
    tts_errors = 1 if arm.tts and rng.random() < 0.005 else 0
    cache_hit = arm.tts and rng.random() < 0.3
    tts_ms = rng.lognormvariate(math.log(5 if cache_hit else 260), 0.3) if arm.tts and not failed else None
    answered = when + timedelta(milliseconds=total)
    messages.append(dict(id=message_id + 1, conversation_id=conversation_id, role="assistant", content=reply,
                         created_at=answered, status="failed" if failed else "complete",
                         provider=arm.provider, model=arm.model, prompt_version="v1", topic=None, input=None,
                         safety_category=safety and safety[0], safety_rule=safety and safety[1],
                         safety_layer=safety and "rules"))
    rows.tables["turn_metrics"].append(dict(
        message_id=message_id + 1, created_at=answered, first_token_ms=None if failed else round(first_token, 1),
        first_sentence_ms=None if failed else round(first_sentence, 1),
        first_audio_ms=round(first_sentence + tts_ms, 1) if tts_ms and not tts_errors else None,
        total_ms=round(total, 1), tts_ms=tts_ms and round(tts_ms, 1), response_chars=len(reply),
        response_tokens=tokens or None, sentences=reply.count(".") if reply else 0,
        audio_cache_hits=int(bool(cache_hit)), provider_errors=provider_errors, tts_errors=tts_errors,
        error_detail="provider timeout" if provider_errors else None))
    return message_id + 2


def _adherence(rows: _Batch, rng: random.Random, research_id: str, enrolled: datetime, until: datetime,
               level: float, active_share: float) -> None:
    """Adherence rises with how much the person uses PaCo (the study's hypothesis, built in)."""
    base = min(0.97, max(0.2, 0.55 + 0.9 * active_share + rng.gauss(0, 0.12)))
    mems = rng.random() < 0.3
    first, last = enrolled.date(), until.date()
    span = (last - first).days
    for day in range(0, span + 1):
        date = first + timedelta(days=day)
        drift = -0.1 * day / 180
        measures = []
        if day % 7 == 6:
            measures.append(("self_report", "synthetic diary", 0.08))
        if day % 30 == 29:
            measures += [("pill_count", "synthetic clinic", 0.05), ("refill_pdc", "synthetic pharmacy", 0.04)]
        if mems and day % 7 == 3:
            measures.append(("mems", "synthetic MEMS cap", 0.06))
        for measure, source, noise in measures:
            value = min(1.0, max(0.0, base + drift + rng.gauss(0, noise) + (0.05 if measure == "self_report" else 0)))
            rows.tables["adherence_records"].append(dict(
                research_id=research_id, date=date, measure=measure, value=round(value, 3), source=source,
                import_batch=None, created_at=datetime.combine(date, datetime.min.time(), timezone.utc)))
