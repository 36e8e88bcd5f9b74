"""Rollups: what the investigator dashboards read instead of a million messages.

Derived data, never the record: each table holds the aggregates of the raw rows up to a watermark
(``rollup_state``), written by ``paco.services.rollups``; a dashboard adds what came after the
watermark, aggregated live, so that it is exact whenever the rollups were last refreshed.
``flask analytics refresh --rebuild`` writes them again from scratch.

- ``question_days``: per conversation and UTC day, the participants' questions counted by input,
  safety, topic and hour of day. Integer keys (a conversation's and a research ID's ``id``) keep a
  scan of a quarter of a million rows in tens of milliseconds on SQLite.
- ``cohort_days``: the same counts per UTC day, cohort and participant status (as they are now:
  ``rollup_participants`` remembers each participant's as counted, and a refresh recounts the days
  of anyone moved or whose status changed). A few thousand rows: the charts by cohort read these.
- ``turn_days`` and ``latency_bins``: per UTC day, provider and model, the turns' counters and
  their latencies counted in bins (10 ms below 1 s, 100 ms below 10 s, 1 s above). Latency is
  PaCo's, not a cohort's: these have no participant key.
"""
from __future__ import annotations

from sqlalchemy import Column, Date, Float, ForeignKey, Integer, PrimaryKeyConstraint, String, Table

from ..extensions import db
from .types import UTCDateTime

# The topic tags of paco.services.topics, one column each ("other" is what no rule matched).
# A new topic needs a column here and a migration; paco.services.topics checks the two agree.
TOPIC_KEYS = ("side_effects", "medications", "smoking", "diet", "walking_exercise", "symptoms", "other")
HOURS = tuple(range(24))
LATENCY_MEASURES = ("first_token_ms", "first_audio_ms", "total_ms", "tts_ms")
NO_PROVIDER = "-"  # provider or model not recorded (a curated answer, an older row)


def _counts(*names: str) -> list[Column]:
    return [Column(name, Integer, nullable=False, server_default="0") for name in names]


QUESTION_COUNTS = ("questions", "voice", "typed", "escalations", *(f"topic_{k}" for k in TOPIC_KEYS),
                   *(f"h{h:02d}" for h in HOURS))

question_days = Table(
    "question_days", db.metadata,
    Column("day", Date, nullable=False),
    Column("conversation_key", Integer, ForeignKey("conversations.id"), nullable=False, index=True),
    Column("research_key", Integer, ForeignKey("research_ids.id"), nullable=False, index=True),
    *_counts(*QUESTION_COUNTS),
    PrimaryKeyConstraint("day", "conversation_key"),
    sqlite_with_rowid=False,  # rows kept in (day, conversation) order: a date range is one range scan
)

NO_COHORT_KEY = 0  # cohort_days' key for participants in no cohort (a key cannot be NULL)
COHORT_COUNTS = ("conversations", *QUESTION_COUNTS)

cohort_days = Table(
    "cohort_days", db.metadata,
    Column("day", Date, nullable=False),
    Column("cohort_key", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    *_counts(*COHORT_COUNTS),
    PrimaryKeyConstraint("day", "cohort_key", "status"),
    sqlite_with_rowid=False,
)

rollup_participants = Table(
    "rollup_participants", db.metadata,
    Column("research_key", Integer, primary_key=True, autoincrement=False),
    Column("cohort_key", Integer, nullable=False),
    Column("status", String(20), nullable=False),
)

TURN_COUNTS = ("turns", "failed", "fallback", "tts_errors", "tts_hits", "tts_sentences")

turn_days = Table(
    "turn_days", db.metadata,
    Column("day", Date, nullable=False),
    Column("provider", String(40), nullable=False),
    Column("model", String(100), nullable=False),
    *_counts(*TURN_COUNTS),
    PrimaryKeyConstraint("day", "provider", "model"),
    sqlite_with_rowid=False,
)

latency_bins = Table(
    "latency_bins", db.metadata,
    Column("day", Date, nullable=False),
    Column("provider", String(40), nullable=False),
    Column("model", String(100), nullable=False),
    Column("measure", String(20), nullable=False),
    Column("bin", Float, nullable=False),
    Column("n", Integer, nullable=False),
    PrimaryKeyConstraint("day", "provider", "model", "measure", "bin"),
    sqlite_with_rowid=False,
)

rollup_state = Table(
    "rollup_state", db.metadata,
    Column("name", String(40), primary_key=True),
    # The highest source row id (messages.id, turn_metrics.id) the rollup holds.
    Column("watermark", Integer, nullable=False),
    Column("refreshed_at", UTCDateTime, nullable=False),
)
