"""Conversations: what participants ask about (topics by week and cohort), how long conversations
are, what safety escalated, and the conversations themselves (a transcript per conversation)."""
from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from paco.errors import NotFound
from paco.models import TurnMetrics
from paco.services.topics import TOPIC_LABELS, TOPICS

from .. import figures
from ..filters import Filters
from ..model import Dashboard, Panel
from ..sql import (
    cohort_list,
    cohort_name,
    cohorts,
    conversations,
    count_if,
    every_cell,
    frame,
    from_cohort_days,
    from_messages,
    from_question_days,
    in_range,
    is_question,
    iso_days,
    messages,
    participants,
    week,
    with_cohort,
)
from ..suppression import suppress

TITLE = "Conversations"
RECENT = 50
TOPIC_COUNTS = tuple(f"topic_{t}" for t in TOPICS)


def build(conn, filters: Filters) -> Dashboard:
    k = filters.min_cell
    weekly = suppress(topics_by_week(conn, filters), k, ["questions"])
    by_cohort = suppress(topics_by_cohort(conn, filters), k, ["questions"], {"share": "questions"})
    lengths = suppress(questions_per_conversation(conn, filters), k, ["conversations", "questions"],
                       {"mean_questions": "conversations"})
    flags = suppress(escalations(conn, filters), k, ["questions"])
    return Dashboard("conversations", TITLE, [
        Panel("topics_by_week", "Question topics by week", weekly,
              figures.bars(weekly, "week", "questions", series="topic", y_title="questions", stacked=True)),
        Panel("topics_by_cohort", "Question topics by cohort", by_cohort,
              figures.bars(by_cohort, "topic", "share", series="cohort", y_title="share of the cohort's questions",
                           horizontal=True)),
        Panel("questions_per_conversation", "Questions per conversation", lengths,
              figures.bars(lengths, "cohort", "mean_questions", y_title="mean questions")),
        Panel("escalations", "Safety escalations by rule", flags,
              figures.bars(flags, "rule", "questions", series="cohort", y_title="questions", horizontal=True),
              note="Questions a safety layer flagged: the rules, or the classifier beside the answer. A "
                   "question in a classifier row was missed by the rules (read it to improve them)."),
        Panel("recent", f"Latest conversations started in the range (at most {RECENT})", recent(conn, filters), None,
              links={"conversation_id": "transcript", "research_id": "participant"}),
    ], intro="Topics come from a small rule set applied when a question is stored.")


def _label(table: pd.DataFrame) -> pd.DataFrame:
    table["topic"] = table["topic"].map(lambda t: TOPIC_LABELS.get(t or "other", t))
    return table


def _topic_sums(conn, filters: Filters, key) -> pd.DataFrame:
    """Questions by ``key`` (a column over the rows) and topic, long form."""
    rows, select = from_cohort_days(filters, conn.dialect.name, TOPIC_COUNTS)
    column = key(rows)
    sums = frame(conn, select(column, *(sa.func.sum(rows.c[f"topic_{t}"]).label(t) for t in TOPICS))
                 .group_by(column))
    return sums.melt(id_vars=column.name, var_name="topic", value_name="questions")


def topics_by_week(conn, filters: Filters) -> pd.DataFrame:
    dialect = conn.dialect.name
    table = _topic_sums(conn, filters, lambda rows: week(rows.c.day, dialect).label("week"))
    table = iso_days(table[table["questions"] > 0].copy(), "week").astype({"questions": int})
    return _label(table.sort_values(["week", "topic"]).reset_index(drop=True))


def topics_by_cohort(conn, filters: Filters) -> pd.DataFrame:
    counted = _topic_sums(conn, filters, lambda rows: cohort_name())
    table = every_cell(counted, {"cohort": cohort_list(conn, filters), "topic": list(TOPICS)}, "questions")
    totals = table.groupby("cohort")["questions"].transform("sum")
    table["share"] = (table["questions"] / totals.where(totals > 0)).round(3)
    return _label(table)


def questions_per_conversation(conn, filters: Filters) -> pd.DataFrame:
    rows, select = from_question_days(filters, conn.dialect.name, ("questions",))
    cohort = cohort_name()
    per_conversation = (select(rows.c.conversation_key, cohort.label("cohort"),
                               sa.func.sum(rows.c.questions).label("n"))
                        .group_by(rows.c.conversation_key, cohort).subquery())
    counted = frame(conn, sa.select(per_conversation.c.cohort, sa.func.count().label("conversations"),
                                    sa.func.sum(per_conversation.c.n).label("questions"))
                    .group_by(per_conversation.c.cohort))
    table = pd.DataFrame({"cohort": cohort_list(conn, filters)}).merge(counted, on="cohort", how="left")
    table = table.fillna(0).astype({"conversations": int, "questions": int})
    table["mean_questions"] = (table["questions"] / table["conversations"].where(table["conversations"] > 0)).round(2)
    return table


def escalations(conn, filters: Filters) -> pd.DataFrame:
    """Flagged questions by rule, by the layer that flagged them ("rules" or "classifier"), by cohort."""
    cohort = cohort_name()
    rule = sa.func.coalesce(messages.c.safety_rule, messages.c.safety_category).label("rule")
    layer = messages.c.safety_layer.label("layer")
    return frame(conn, with_cohort(from_messages(rule, layer, cohort, sa.func.count().label("questions")), filters)
                 .where(messages.c.role == "user", messages.c.safety_category.is_not(None),
                        *in_range(messages.c.created_at, filters))
                 .group_by(rule, layer, cohort).order_by(rule, layer, cohort))


def recent(conn, filters: Filters) -> pd.DataFrame:
    """The latest conversations started in the range, with their questions and escalations."""
    started = (with_cohort(sa.select(conversations.c.id, conversations.c.conversation_id, participants.c.research_id,
                                     cohort_name(), conversations.c.created_at)
                           .select_from(conversations)
                           .join(participants, participants.c.research_id == conversations.c.research_id), filters)
               .where(*in_range(conversations.c.created_at, filters))
               .order_by(conversations.c.created_at.desc(), conversations.c.id.desc()).limit(RECENT).subquery())
    counted = (sa.select(messages.c.conversation_id, count_if(is_question()).label("questions"),
                         count_if(sa.and_(messages.c.role == "user", messages.c.safety_category.is_not(None)))
                         .label("escalations"))
               .where(messages.c.conversation_id.in_(sa.select(started.c.conversation_id)))
               .group_by(messages.c.conversation_id).subquery())
    table = frame(conn, sa.select(started.c.conversation_id, started.c.research_id, started.c.cohort,
                                  started.c.created_at.label("started"),
                                  sa.func.coalesce(counted.c.questions, 0).label("questions"),
                                  sa.func.coalesce(counted.c.escalations, 0).label("escalations"))
                  .select_from(started).outerjoin(counted, counted.c.conversation_id == started.c.conversation_id)
                  .order_by(started.c.created_at.desc(), started.c.id.desc()))
    table["started"] = table["started"].map(lambda t: t.strftime("%Y-%m-%d %H:%M UTC"))
    return table.astype({"questions": int, "escalations": int})


def transcript(conn, conversation_id: str) -> dict:
    """One conversation, oldest message first, for reading."""
    metrics = TurnMetrics.__table__
    head = conn.execute(sa.select(conversations.c.conversation_id, conversations.c.research_id,
                                  conversations.c.created_at, cohort_name())
                        .select_from(conversations)
                        .join(participants, participants.c.research_id == conversations.c.research_id)
                        .outerjoin(cohorts, cohorts.c.id == participants.c.cohort_id)
                        .where(conversations.c.conversation_id == conversation_id)).first()
    if head is None:
        raise NotFound("conversation_not_found", "That conversation was not found.")
    rows = conn.execute(
        sa.select(messages.c.id, messages.c.role, messages.c.content, messages.c.created_at, messages.c.status,
                  messages.c.input, messages.c.topic, messages.c.safety_category, messages.c.safety_rule,
                  messages.c.safety_layer, messages.c.provider, messages.c.model, metrics.c.first_token_ms,
                  metrics.c.total_ms)
        .outerjoin(metrics, metrics.c.message_id == messages.c.id)
        .where(messages.c.conversation_id == conversation_id)
        .order_by(messages.c.created_at, messages.c.id)).mappings().all()
    return {"conversation_id": head.conversation_id, "research_id": head.research_id, "cohort": head.cohort,
            "started": head.created_at, "messages": [dict(row) for row in rows]}

