"""Engagement: questions and conversations per day, per participant, by week since enrolment,
per conversation and by time of day, by cohort."""
from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from .. import figures
from ..filters import Filters
from ..model import Dashboard, Panel
from ..sql import (
    cohort_list,
    cohort_name,
    conversations,
    day,
    days_between,
    frame,
    from_messages,
    hour,
    in_range,
    is_question,
    messages,
    participants,
    with_cohort,
)
from ..suppression import suppress

TITLE = "Engagement"
RETENTION_WEEKS = 12
PER_PARTICIPANT_BINS = [(0, 0, "0"), (1, 4, "1-4"), (5, 9, "5-9"), (10, 19, "10-19"), (20, 49, "20-49"),
                        (50, 99, "50-99"), (100, None, "100+")]
LONGEST = 10  # conversations of this many questions or more share one bar


def build(conn, filters: Filters) -> Dashboard:
    k = filters.min_cell
    daily = per_day(conn, filters)
    shown = suppress(daily, k, ["questions", "conversations"])
    spread = suppress(per_participant(conn, filters), k, ["participants"])
    retained = suppress(retention(conn, filters), k, ["active", "eligible"], {"share_active": "active"})
    lengths = suppress(conversation_length(conn, filters), k, ["conversations"])
    hours = suppress(time_of_day(conn, filters), k, ["questions"])
    return Dashboard("engagement", TITLE, [
        Panel("questions_per_day", "Questions per day", shown[["day", "cohort", "questions"]],
              figures.lines(shown, "day", "questions", "cohort", "questions")),
        Panel("conversations_per_day", "Conversations started per day", shown[["day", "cohort", "conversations"]],
              figures.lines(shown, "day", "conversations", "cohort", "conversations")),
        Panel("per_participant", "Questions per participant", spread,
              figures.bars(spread, "questions", "participants", series="cohort", y_title="participants"),
              note="Every participant enrolled by the end of the range, including those who asked nothing."),
        Panel("retention", "Retention: share active by week since enrolment", retained,
              figures.lines(retained, "week", "share_active", "cohort", "share active"),
              note="Week 0 is the first seven days after enrolment; a participant counts for a week once the "
                   "whole week has passed. All dates, not only the range."),
        Panel("conversation_length", "Questions per conversation", lengths,
              figures.bars(lengths, "questions", "conversations", series="cohort", y_title="conversations"),
              note=f"{LONGEST} means {LONGEST} or more."),
        Panel("time_of_day", "Questions by hour of day (UTC)", hours,
              figures.bars(hours, "hour", "questions", series="cohort", y_title="questions")),
    ], intro="How much participants use PaCo, and for how long after enrolment.")


def per_day(conn, filters: Filters) -> pd.DataFrame:
    dialect, cohort = conn.dialect.name, cohort_name()
    bucket = day(messages.c.created_at, dialect).label("day")
    questions = frame(conn, with_cohort(from_messages(bucket, cohort, sa.func.count().label("questions")), filters)
                      .where(is_question(), *in_range(messages.c.created_at, filters))
                      .group_by(bucket, cohort))
    started = day(conversations.c.created_at, dialect).label("day")
    talks = frame(conn, with_cohort(
        sa.select(started, cohort, sa.func.count().label("conversations")).select_from(conversations)
        .join(participants, participants.c.research_id == conversations.c.research_id), filters)
        .where(*in_range(conversations.c.created_at, filters)).group_by(started, cohort))
    days = pd.date_range(filters.first_day, filters.last_day, freq="D").strftime("%Y-%m-%d")
    grid = pd.MultiIndex.from_product([days, cohort_list(conn, filters)], names=["day", "cohort"])
    table = (pd.DataFrame(index=grid).reset_index()
             .merge(questions, on=["day", "cohort"], how="left").merge(talks, on=["day", "cohort"], how="left"))
    return table.fillna({"questions": 0, "conversations": 0}).astype({"questions": int, "conversations": int})


def per_participant(conn, filters: Filters) -> pd.DataFrame:
    cohort = cohort_name()
    asked = (from_messages(participants.c.research_id, sa.func.count().label("n"))
             .where(is_question(), *in_range(messages.c.created_at, filters))
             .group_by(participants.c.research_id).subquery())
    n = sa.func.coalesce(asked.c.n, 0)
    bucket = sa.case(*[(n <= high if high is not None else sa.true(), label)
                       for low, high, label in PER_PARTICIPANT_BINS]).label("questions")
    rows = frame(conn, with_cohort(
        sa.select(bucket, cohort, sa.func.count().label("participants")).select_from(participants)
        .outerjoin(asked, asked.c.research_id == participants.c.research_id), filters)
        .where(sa.func.coalesce(participants.c.enrolled_at, participants.c.created_at) < filters.until)
        .group_by(bucket, cohort))
    order = [label for _, _, label in PER_PARTICIPANT_BINS]
    grid = pd.MultiIndex.from_product([order, cohort_list(conn, filters)], names=["questions", "cohort"])
    table = pd.DataFrame(index=grid).reset_index().merge(rows, on=["questions", "cohort"], how="left")
    return table.fillna({"participants": 0}).astype({"participants": int})


def retention(conn, filters: Filters) -> pd.DataFrame:
    dialect, cohort = conn.dialect.name, cohort_name()
    enrolled = sa.func.coalesce(participants.c.enrolled_at, participants.c.created_at)
    # Floor division: a cast to integer rounds on PostgreSQL (3.9 weeks would read as week 4).
    week = (days_between(messages.c.created_at, enrolled, dialect) // 7).label("week")
    active = frame(conn, with_cohort(from_messages(
        week, cohort, sa.func.count(sa.distinct(participants.c.research_id)).label("active")), filters)
        .where(is_question(), messages.c.created_at < filters.until)
        .group_by(week, cohort))
    # Whole weeks each participant has been enrolled for, by the end of the range.
    weeks_in = (days_between(sa.literal(filters.until, participants.c.created_at.type), enrolled, dialect)
                // 7).label("weeks_in")
    eligible = frame(conn, with_cohort(
        sa.select(weeks_in, cohort, sa.func.count().label("n")).select_from(participants), filters)
        .where(enrolled < filters.until).group_by(weeks_in, cohort))
    rows = []
    for name in cohort_list(conn, filters):
        mine = eligible[eligible["cohort"] == name]
        for w in range(RETENTION_WEEKS + 1):
            n = int(mine.loc[mine["weeks_in"] > w, "n"].sum())  # week w is over for them
            hit = active[(active["cohort"] == name) & (active["week"] == w)]["active"]
            rows.append({"cohort": name, "week": w, "active": int(hit.iloc[0]) if len(hit) else 0, "eligible": n})
    table = pd.DataFrame(rows, columns=["cohort", "week", "active", "eligible"])
    table["share_active"] = (table["active"] / table["eligible"].where(table["eligible"] > 0)).round(3)
    return table


def conversation_length(conn, filters: Filters) -> pd.DataFrame:
    cohort = cohort_name()
    lengths = (with_cohort(from_messages(messages.c.conversation_id, cohort, sa.func.count().label("n")), filters)
               .where(is_question(), *in_range(messages.c.created_at, filters))
               .group_by(messages.c.conversation_id, cohort).subquery())
    capped = sa.case((lengths.c.n >= LONGEST, LONGEST), else_=lengths.c.n).label("questions")
    rows = frame(conn, sa.select(capped, lengths.c.cohort, sa.func.count().label("conversations"))
                 .group_by(capped, lengths.c.cohort))
    grid = pd.MultiIndex.from_product([range(1, LONGEST + 1), cohort_list(conn, filters)],
                                      names=["questions", "cohort"])
    table = pd.DataFrame(index=grid).reset_index().merge(rows, on=["questions", "cohort"], how="left")
    return table.fillna({"conversations": 0}).astype({"conversations": int})


def time_of_day(conn, filters: Filters) -> pd.DataFrame:
    cohort = cohort_name()
    bucket = hour(messages.c.created_at, conn.dialect.name).label("hour")
    rows = frame(conn, with_cohort(from_messages(bucket, cohort, sa.func.count().label("questions")), filters)
                 .where(is_question(), *in_range(messages.c.created_at, filters))
                 .group_by(bucket, cohort))
    grid = pd.MultiIndex.from_product([range(24), cohort_list(conn, filters)], names=["hour", "cohort"])
    table = pd.DataFrame(index=grid).reset_index().merge(rows, on=["hour", "cohort"], how="left")
    return table.fillna({"questions": 0}).astype({"questions": int})
