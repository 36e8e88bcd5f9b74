"""The exportable datasets: a Core SELECT each (filters applied) and a data dictionary entry per column.

Every dataset that concerns participants carries the research ID and the cohort on every row;
messages also carry the disclaimer version the participant had acknowledged when the message was
sent. Dates filter by each dataset's own time column; without --from/--to nothing is cut.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone

import sqlalchemy as sa

from paco.models import (
    ADHERENCE_MEASURES,
    BARRIERS,
    CHECKIN_TAKEN,
    PARTICIPANT_STATUSES,
    AdherenceRecord,
    AuditEvent,
    Checkin,
    DisclaimerAcknowledgment,
    TurnMetrics,
)
from paco.models.chat import MESSAGE_INPUTS, MESSAGE_ROLES, MESSAGE_STATUSES
from paco.services.topics import TOPICS

from .filters import Filters
from .sql import cohort_name, conversations, messages, participants, with_cohort


@dataclass(frozen=True)
class Column:
    name: str
    type: str            # string, integer, float, datetime (UTC), date, category
    meaning: str
    unit: str = ""
    values: tuple[str, ...] = ()


RESEARCH_ID = Column("research_id", "string", "The participant's research ID (no name is ever stored).")
COHORT = Column("cohort", "string", "The study arm the participant is in now.")
acks = DisclaimerAcknowledgment.__table__
metrics = TurnMetrics.__table__
records = AdherenceRecord.__table__
checkins = Checkin.__table__
audit = AuditEvent.__table__


def _ms(name: str, meaning: str) -> Column:
    return Column(name, "float", meaning, unit="ms")


DICTIONARY: dict[str, list[Column]] = {
    "participants": [
        RESEARCH_ID, COHORT,
        Column("status", "category", "Access to PaCo.", values=PARTICIPANT_STATUSES),
        Column("enrolled_at", "datetime", "When the research ID was enrolled.", "UTC"),
        Column("status_changed_at", "datetime", "When the status last changed.", "UTC"),
        Column("created_at", "datetime", "When the research ID was added to PaCo.", "UTC"),
    ],
    "acknowledgments": [
        RESEARCH_ID, COHORT,
        Column("version", "integer", "The disclaimer version acknowledged."),
        Column("content_hash", "string", "SHA-256 of the disclaimer text acknowledged."),
        Column("acknowledged_at", "datetime", "When it was acknowledged.", "UTC"),
        Column("user_agent", "string", "The browser that acknowledged it."),
    ],
    "conversations": [
        Column("conversation_id", "string", "The conversation's ID."), RESEARCH_ID, COHORT,
        Column("created_at", "datetime", "When the conversation started.", "UTC"),
        Column("updated_at", "datetime", "When its last message was stored.", "UTC"),
    ],
    "messages": [
        Column("id", "integer", "The message's ID."),
        Column("conversation_id", "string", "The conversation it belongs to."), RESEARCH_ID, COHORT,
        Column("disclaimer_version", "integer",
               "The newest disclaimer version the participant had acknowledged when the message was stored."),
        Column("created_at", "datetime", "When the message was stored.", "UTC"),
        Column("role", "category", "Who wrote it: the participant (user) or PaCo (assistant).",
               values=MESSAGE_ROLES),
        Column("status", "category", "How the turn ended.", values=MESSAGE_STATUSES),
        Column("content", "string", "The text."),
        Column("input", "category", "Questions: spoken (voice) or typed (text); empty when the page did not say. "
               "checkin: the participant's answer to the daily check-in card (not a question).",
               values=MESSAGE_INPUTS),
        Column("topic", "category", "Questions: the topic rule that matched.", values=TOPICS),
        Column("safety_category", "category", "The safety category flagged, if any.",
               values=("emergency", "crisis", "urgent", "medication_change")),
        Column("safety_rule", "string", "The safety rule that flagged it."),
        Column("safety_layer", "category", "Which safety layer flagged it.", values=("rules", "classifier")),
        Column("provider", "string", "Answers: the LLM provider."),
        Column("model", "string", "Answers: the model."),
        Column("prompt_version", "string", "Answers: the system prompt's version."),
    ],
    "turn_metrics": [
        Column("message_id", "integer", "The answer these timings belong to."), RESEARCH_ID, COHORT,
        Column("created_at", "datetime", "When the turn ended.", "UTC"),
        Column("provider", "string", "The LLM provider that answered."),
        Column("model", "string", "The model that answered."),
        _ms("first_token_ms", "From the question's arrival to the first token of the answer."),
        _ms("first_sentence_ms", "From the question's arrival to the first whole sentence."),
        _ms("first_audio_ms", "From the question's arrival to the first audio sent."),
        _ms("total_ms", "From the question's arrival to the end of the answer."),
        _ms("tts_ms", "Time spent in speech synthesis."),
        Column("response_chars", "integer", "Length of the answer.", "characters"),
        Column("response_tokens", "integer", "Tokens in the answer, when the provider said.", "tokens"),
        Column("sentences", "integer", "Sentences spoken.", "sentences"),
        Column("audio_cache_hits", "integer", "Sentences served from the audio cache.", "sentences"),
        Column("provider_errors", "integer", "LLM providers that failed before one answered.", "errors"),
        Column("tts_errors", "integer", "Sentences that could not be spoken.", "errors"),
    ],
    "adherence": [
        RESEARCH_ID, COHORT,
        Column("date", "date", "The day the measurement covers."),
        Column("measure", "category", "How adherence was measured.", values=ADHERENCE_MEASURES),
        Column("value", "float", "Adherence on one scale: the fraction of doses taken (PDC for refills).",
               "fraction 0-1"),
        Column("source", "string", "Where the value came from (paco_checkin: the participant's daily check-in)."),
        Column("import_batch", "string", "The import that brought it in."),
        Column("created_at", "datetime", "When it was stored.", "UTC"),
        Column("barrier", "category", "Why doses were missed, when the participant said.", values=BARRIERS),
    ],
    "checkins": [
        Column("id", "integer", "The answer's ID."), RESEARCH_ID, COHORT,
        Column("date", "date", "The participant's own calendar day the answer is for."),
        Column("taken", "category", "The answer to \"Did you take your P.A.D. medicines today?\"",
               values=CHECKIN_TAKEN),
        Column("reason", "category", "The barrier named with some/none, if any.", values=BARRIERS),
        Column("note", "string", "The participant's own words for the reason."),
        Column("value", "float", "What the day's self_report adherence record holds for this answer: "
               "all 1.0, some 0.5, none 0.0.", "fraction 0-1"),
        Column("wording", "string", "The version of the question's wording shown."),
        Column("tz_offset_minutes", "integer", "The page's time-zone offset, east of UTC.", "minutes"),
        Column("answered_at", "datetime", "When it was answered (a later answer the same day replaces it).", "UTC"),
        Column("latest", "integer", "1 for the day's latest answer (the one the adherence record holds), else 0."),
        Column("reply_message_id", "integer", "PaCo's guidance for the barrier, as a message ID."),
    ],
    "audit": [
        Column("id", "integer", "The event's position in the log."),
        Column("at", "datetime", "When it happened.", "UTC"),
        Column("actor", "string", "Who did it (staff email, cli:<user>)."),
        Column("action", "string", "What was done."),
        Column("target", "string", "What it was done to."),
        Column("detail", "string", "The change, as JSON."),
        Column("ip", "string", "The address it came from."),
        Column("prev_hash", "string", "The previous event's hash (the chain)."),
        Column("hash", "string", "This event's hash."),
    ],
}
DATASETS = tuple(DICTIONARY)


def _dates(column, filters: Filters) -> list:
    clauses = []
    if filters.start:
        clauses.append(column >= datetime.combine(filters.start, time.min, timezone.utc))
    if filters.end:
        clauses.append(column < datetime.combine(filters.end + timedelta(days=1), time.min, timezone.utc))
    return clauses


def _day_range(column, filters: Filters) -> list:
    return ([column >= filters.start] if filters.start else []) + ([column <= filters.end] if filters.end else [])


def query(dataset: str, filters: Filters) -> sa.Select:
    """The dataset's rows in a stable order, with the dictionary's columns in its order."""
    cohort = cohort_name()
    p = participants.c
    if dataset == "participants":
        q = with_cohort(sa.select(p.research_id, cohort, p.status, p.enrolled_at, p.status_changed_at,
                                  p.created_at).select_from(participants), filters)
        return q.where(*_dates(p.enrolled_at, filters)).order_by(p.research_id)
    if dataset == "acknowledgments":
        q = with_cohort(sa.select(acks.c.research_id, cohort, acks.c.version, acks.c.content_hash,
                                  acks.c.acknowledged_at, acks.c.user_agent).select_from(acks)
                        .join(participants, p.research_id == acks.c.research_id), filters)
        return q.where(*_dates(acks.c.acknowledged_at, filters)).order_by(acks.c.id)
    if dataset == "conversations":
        c = conversations.c
        q = with_cohort(sa.select(c.conversation_id, c.research_id, cohort, c.created_at, c.updated_at)
                        .select_from(conversations).join(participants, p.research_id == c.research_id), filters)
        return q.where(*_dates(c.created_at, filters)).order_by(c.id)
    if dataset == "messages":
        m = messages.c
        version = (sa.select(sa.func.max(acks.c.version))
                   .where(acks.c.research_id == p.research_id, acks.c.acknowledged_at <= m.created_at)
                   .scalar_subquery().label("disclaimer_version"))
        q = with_cohort(sa.select(m.id, m.conversation_id, p.research_id, cohort, version, m.created_at, m.role,
                                  m.status, m.content, m.input, m.topic, m.safety_category, m.safety_rule,
                                  m.safety_layer, m.provider, m.model, m.prompt_version)
                        .select_from(messages).join(conversations, conversations.c.conversation_id == m.conversation_id)
                        .join(participants, p.research_id == conversations.c.research_id), filters)
        return q.where(*_dates(m.created_at, filters)).order_by(m.id)
    if dataset == "turn_metrics":
        t, m = metrics.c, messages.c
        q = with_cohort(sa.select(t.message_id, p.research_id, cohort, t.created_at, m.provider, m.model,
                                  t.first_token_ms, t.first_sentence_ms, t.first_audio_ms, t.total_ms, t.tts_ms,
                                  t.response_chars, t.response_tokens, t.sentences, t.audio_cache_hits,
                                  t.provider_errors, t.tts_errors)
                        .select_from(metrics).join(messages, m.id == t.message_id)
                        .join(conversations, conversations.c.conversation_id == m.conversation_id)
                        .join(participants, p.research_id == conversations.c.research_id), filters)
        return q.where(*_dates(t.created_at, filters)).order_by(t.id)
    if dataset == "adherence":
        r = records.c
        q = with_cohort(sa.select(r.research_id, cohort, r.date, r.measure, r.value, r.source, r.import_batch,
                                  r.created_at, r.barrier)
                        .select_from(records).join(participants, p.research_id == r.research_id), filters)
        return q.where(*_day_range(r.date, filters)).order_by(r.id)
    if dataset == "checkins":
        c = checkins.c
        newest = sa.select(sa.func.max(checkins.c.id)).group_by(checkins.c.research_id, checkins.c.date)
        latest = sa.case((c.id.in_(newest), 1), else_=0).label("latest")
        q = with_cohort(sa.select(c.id, c.research_id, cohort, c.date, c.taken, c.reason, c.note, c.value, c.wording,
                                  c.tz_offset_minutes, c.answered_at, latest, c.reply_message_id)
                        .select_from(checkins).join(participants, p.research_id == c.research_id), filters)
        return q.where(*_day_range(c.date, filters)).order_by(c.id)
    if dataset == "audit":
        a = audit.c
        # The log is about staff, not participants: only the dates filter it.
        return (sa.select(a.id, a.at, a.actor, a.action, a.target, a.detail, a.ip, a.prev_hash, a.hash)
                .where(*_dates(a.at, filters)).order_by(a.id))
    raise KeyError(dataset)


__all__ = ["DATASETS", "DICTIONARY", "Column", "query"]
