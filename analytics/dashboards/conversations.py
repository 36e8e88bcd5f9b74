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
    frame,
    from_messages,
    in_range,
    is_question,
    messages,
    participants,
    week,
    with_cohort,
)
from ..suppression import suppress

TITLE = "Conversations"
RECENT = 50


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
        Panel("recent", f"Latest conversations in the range (at most {RECENT})", recent(conn, filters), None,
              links={"conversation_id": "transcript", "research_id": "participant"}),
    ], intro="Topics come from a small rule set applied when a question is stored.")


def _label(table: pd.DataFrame) -> pd.DataFrame:
    table["topic"] = table["topic"].map(lambda t: TOPIC_LABELS.get(t or "other", t))
    return table


def topics_by_week(conn, filters: Filters) -> pd.DataFrame:
    bucket = week(messages.c.created_at, conn.dialect.name).label("week")
    topic = sa.func.coalesce(messages.c.topic, "other").label("topic")
    rows = frame(conn, with_cohort(from_messages(bucket, topic, sa.func.count().label("questions")), filters)
                 .where(is_question(), *in_range(messages.c.created_at, filters))
                 .group_by(bucket, topic).order_by(bucket, topic))
    return _label(rows)


def topics_by_cohort(conn, filters: Filters) -> pd.DataFrame:
    cohort, topic = cohort_name(), sa.func.coalesce(messages.c.topic, "other").label("topic")
    rows = frame(conn, with_cohort(from_messages(cohort, topic, sa.func.count().label("questions")), filters)
                 .where(is_question(), *in_range(messages.c.created_at, filters))
                 .group_by(cohort, topic))
    grid = pd.MultiIndex.from_product([cohort_list(conn, filters), list(TOPICS)], names=["cohort", "topic"])
    table = pd.DataFrame(index=grid).reset_index().merge(rows, on=["cohort", "topic"], how="left")
    table = table.fillna({"questions": 0}).astype({"questions": int})
    totals = table.groupby("cohort")["questions"].transform("sum")
    table["share"] = (table["questions"] / totals.where(totals > 0)).round(3)
    return _label(table)


def questions_per_conversation(conn, filters: Filters) -> pd.DataFrame:
    cohort = cohort_name()
    rows = frame(conn, with_cohort(from_messages(
        cohort, sa.func.count(sa.distinct(messages.c.conversation_id)).label("conversations"),
        sa.func.count().label("questions")), filters)
        .where(is_question(), *in_range(messages.c.created_at, filters)).group_by(cohort))
    table = pd.DataFrame({"cohort": cohort_list(conn, filters)}).merge(rows, on="cohort", how="left")
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
    cohort = cohort_name()
    rows = frame(conn, with_cohort(
        from_messages(conversations.c.conversation_id, participants.c.research_id, cohort,
                      sa.func.min(messages.c.created_at).label("started"),
                      count_if(is_question()).label("questions"),
                      count_if(sa.and_(messages.c.role == "user", messages.c.safety_category.is_not(None)))
                      .label("escalations")), filters)
        .where(*in_range(messages.c.created_at, filters))
        .group_by(conversations.c.conversation_id, participants.c.research_id, cohort)
        .order_by(sa.func.min(messages.c.created_at).desc()).limit(RECENT))
    rows["started"] = rows["started"].map(lambda t: t.strftime("%Y-%m-%d %H:%M UTC"))
    return rows


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

