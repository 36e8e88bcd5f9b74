"""Topic tags of participants' questions: a small rule set, applied once when a message is stored.

One tag per question, the first rule that matches in ``TOPICS`` order ("side effects of my statin"
is about side effects before it is about medicines). Assistant replies are not tagged: they
mention many topics while answering one. The rules are words, not a model, so an investigator
can read why a message got its tag; ``flask analytics backfill-topics`` re-tags stored messages
after a rule changes.
"""
from __future__ import annotations

import re

import sqlalchemy as sa

from ..models import TOPIC_KEYS, Message

# Order is priority. "other" is what no rule matched.
_RULES: dict[str, tuple[str, ...]] = {
    "side_effects": (
        r"side[- ]?effects?", r"reactions?", r"rash(es)?", r"itch\w*", r"nause\w*", r"upset stomach",
        r"muscle (pain|ache|aches|cramps?)", r"bruis\w*", r"bleed\w*", r"make[s]? me (feel )?(sick|dizzy|tired)",
        r"dizz\w*", r"heartburn",
    ),
    "medications": (
        r"medicines?", r"medications?", r"meds", r"pills?", r"tablets?", r"doses?", r"dosage", r"prescriptions?",
        r"refills?", r"pharmac\w*", r"statins?", r"atorvastatin", r"rosuvastatin", r"simvastatin", r"aspirin",
        r"clopidogrel", r"plavix", r"cilostazol", r"rivaroxaban", r"xarelto", r"warfarin", r"blood thinners?",
        r"metformin", r"insulin", r"lisinopril", r"pill ?box", r"forgot to take", r"missed (a|my) dose",
    ),
    "smoking": (
        r"smok\w*", r"cigar\w*", r"tobacco", r"vap(e|es|ing)", r"nicotine", r"quit(ting)?", r"e-?cigs?",
    ),
    "diet": (
        r"diet", r"eat\w*", r"food", r"meals?", r"salt", r"sodium", r"sugar", r"fruit", r"vegetables?",
        r"cholesterol", r"fat(s|ty)?", r"alcohol", r"drink(ing)?", r"weight", r"grapefruit",
    ),
    "walking_exercise": (
        r"walk\w*", r"exercis\w*", r"steps?", r"treadmill", r"activity", r"active", r"physical",
        r"bik(e|ing)", r"swim\w*", r"stairs",
    ),
    "symptoms": (
        r"pain\w*", r"cramp\w*", r"claudication", r"numb\w*", r"cold (feet|foot|legs?|toes?)", r"sores?",
        r"wounds?", r"swell\w*", r"tingl\w*", r"ach(e|es|ing)", r"hurts?", r"symptoms?", r"tired legs?",
        r"heavy legs?", r"short(ness)? of breath",
    ),
}
TOPICS: tuple[str, ...] = (*_RULES, "other")
# The dashboards' rollup has a column per topic: a new rule needs one there (and a migration).
assert set(TOPICS) == set(TOPIC_KEYS), "paco.models.rollups.TOPIC_KEYS must name every topic"
TOPIC_LABELS = {"side_effects": "Side effects", "medications": "Medications", "smoking": "Smoking",
                "diet": "Diet", "walking_exercise": "Walking / exercise", "symptoms": "Symptoms", "other": "Other"}
TOPIC_MAX_LENGTH = 20

# One alternation per topic, compiled once: a question is tested against at most six patterns.
_PATTERNS = [(topic, re.compile(r"\b(?:" + "|".join(words) + r")\b", re.IGNORECASE))
             for topic, words in _RULES.items()]


def topic_of(text: str) -> str:
    """The topic of one question (``"other"`` when no rule matches)."""
    for topic, pattern in _PATTERNS:
        if pattern.search(text):
            return topic
    return "other"


BACKFILL_CHUNK = 5000


def backfill(engine, everything: bool = False) -> int:
    """Tag stored questions in chunks (all of them with ``everything``, else the untagged ones);
    returns how many were tagged. Each chunk is committed: an interrupted run resumes."""
    table = Message.__table__
    update = (sa.update(table).where(table.c.id == sa.bindparam("key"))
              .values(topic=sa.bindparam("new_topic")))
    tagged, last = 0, 0
    with engine.connect() as conn:
        while True:
            query = (sa.select(table.c.id, table.c.content).where(table.c.role == "user", table.c.id > last)
                     .order_by(table.c.id).limit(BACKFILL_CHUNK))
            if not everything:
                query = query.where(table.c.topic.is_(None))
            rows = conn.execute(query).all()
            if not rows:
                return tagged
            conn.execute(update, [{"key": row.id, "new_topic": topic_of(row.content)} for row in rows])
            conn.commit()
            tagged += len(rows)
            last = rows[-1].id
