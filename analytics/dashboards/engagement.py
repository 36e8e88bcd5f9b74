"""Engagement: questions and conversations per day, per participant, by week since enrolment,
per conversation and by time of day, by cohort."""
from __future__ import annotations

from datetime import timedelta

import pandas as pd
import sqlalchemy as sa

from paco.models.rollups import HOURS
from paco.services.rollups import current_question_days, utc_day

from .. import figures
from ..filters import Filters
from ..model import Dashboard, Panel
from ..sql import (
    cohort_list,
    cohort_name,
    day_number,
    enrolled_at,
    frame,
    from_cohort_days,
    iso_days,
    participant_frame,
    participants,
    with_cohort,
)
from ..suppression import suppress

TITLE = "Engagement"
RETENTION_WEEKS = 12
PER_PARTICIPANT_BINS = [(0, 0, "0"), (1, 4, "1-4"), (5, 9, "5-9"), (10, 19, "10-19"), (20, 49, "20-49"),
                        (50, 99, "50-99"), (100, None, "100+")]
LONGEST = 10  # conversations of this many questions or more share one bar
HOUR_COUNTS = tuple(f"h{h:02d}" for h in HOURS)


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
        Panel("conversations_per_day", "Conversations per day", shown[["day", "cohort", "conversations"]],
              figures.lines(shown, "day", "conversations", "cohort", "conversations"),
              note="Conversations in which the participant asked at least one question that day."),
        Panel("per_participant", "Questions per participant", spread,
              figures.bars(spread, "questions", "participants", series="cohort", y_title="participants"),
              note="Every participant enrolled by the end of the range, including those who asked nothing."),
        Panel("retention", "Retention: share active by week since enrolment", retained,
              figures.lines(retained, "week", "share_active", "cohort", "share active"),
              note="Week 0 is the day of enrolment and the six days after it (UTC days); a participant counts "
                   "for a week once the whole week has passed. All dates, not only the range."),
        Panel("conversation_length", "Questions per conversation", lengths,
              figures.bars(lengths, "questions", "conversations", series="cohort", y_title="conversations"),
              note=f"{LONGEST} means {LONGEST} or more."),
        Panel("time_of_day", "Questions by hour of day (UTC)", hours,
              figures.bars(hours, "hour", "questions", series="cohort", y_title="questions")),
    ], intro="How much participants use PaCo, and for how long after enrolment.")


def per_day(conn, filters: Filters) -> pd.DataFrame:
    rows, select = from_cohort_days(filters, conn.dialect.name, ("questions",))
    cohort = cohort_name()
    counted = iso_days(frame(conn, select(rows.c.day, cohort, sa.func.sum(rows.c.questions).label("questions"),
                                          sa.func.sum(rows.c.conversations).label("conversations"))
                             .group_by(rows.c.day, cohort)), "day")
    days = pd.date_range(filters.first_day, filters.last_day, freq="D").strftime("%Y-%m-%d")
    grid = pd.MultiIndex.from_product([days, cohort_list(conn, filters)], names=["day", "cohort"])
    table = pd.DataFrame(index=grid).reset_index().merge(counted, on=["day", "cohort"], how="left")
    return table.fillna({"questions": 0, "conversations": 0}).astype({"questions": int, "conversations": int})


def _by_participant(conn, filters: Filters, statement) -> pd.DataFrame:
    """A per-participant aggregate (``research_key`` first) with the filtered participants'
    cohort; participants without a row are kept (their counts are missing)."""
    people = participant_frame(conn, filters, enrolled_by_end=True)
    return people.merge(frame(conn, statement), on="research_key", how="left")


def per_participant(conn, filters: Filters) -> pd.DataFrame:
    rows = current_question_days(conn.dialect.name, filters.first_day, filters.last_day, ("questions",))
    asked = _by_participant(conn, filters, sa.select(rows.c.research_key, sa.func.sum(rows.c.questions).label("n"))
                            .where(rows.c.day >= filters.first_day, rows.c.day <= filters.last_day)
                            .group_by(rows.c.research_key))
    n = asked["n"].fillna(0)
    edges = [-1] + [high if high is not None else float("inf") for _, high, _ in PER_PARTICIPANT_BINS]
    order = [label for _, _, label in PER_PARTICIPANT_BINS]
    asked["questions"] = pd.cut(n, bins=edges, labels=order).astype(str)
    counted = asked.groupby(["questions", "cohort"]).size().rename("participants").reset_index()
    grid = pd.MultiIndex.from_product([order, cohort_list(conn, filters)], names=["questions", "cohort"])
    table = pd.DataFrame(index=grid).reset_index().merge(counted, on=["questions", "cohort"], how="left")
    return table.fillna({"participants": 0}).astype({"participants": int})


def retention(conn, filters: Filters) -> pd.DataFrame:
    """Weeks are counted in whole UTC days from the day of enrolment (week 0: that day and the six
    after it), over every date up to the range's end."""
    dialect = conn.dialect.name
    rows = current_question_days(dialect, None, filters.last_day, ())
    enrolled_day = day_number(utc_day(enrolled_at(), dialect), dialect)
    since_enrolment = day_number(rows.c.day, dialect) - enrolled_day
    week = (since_enrolment // 7).label("week")
    # Distinct (participant, week) first, then counted per cohort; research_ids is read by its
    # primary key, row by row.
    cohort = cohort_name()
    weeks = (with_cohort(sa.select(rows.c.research_key, week, cohort).select_from(rows)
                         .join(participants, participants.c.id == rows.c.research_key), filters)
             .where(rows.c.day <= filters.last_day, since_enrolment >= 0, enrolled_at() < filters.until)
             .group_by(rows.c.research_key, week, cohort).subquery())
    active = frame(conn, sa.select(weeks.c.week, weeks.c.cohort, sa.func.count().label("active"))
                   .group_by(weeks.c.week, weeks.c.cohort))
    # Whole weeks each participant has been enrolled for, by the end of the range.
    end = day_number(sa.literal(filters.last_day + timedelta(days=1), sa.Date), dialect)
    weeks_in = ((end - enrolled_day) // 7).label("weeks_in")
    eligible = frame(conn, with_cohort(sa.select(weeks_in, cohort, sa.func.count().label("n"))
                                       .select_from(participants), filters)
                     .where(enrolled_at() < filters.until).group_by(weeks_in, cohort))
    out = []
    for name in cohort_list(conn, filters):
        mine = eligible[eligible["cohort"] == name]
        for w in range(RETENTION_WEEKS + 1):
            n = int(mine.loc[mine["weeks_in"] > w, "n"].sum())  # week w is over for them
            hit = active[(active["cohort"] == name) & (active["week"] == w)]["active"]
            out.append({"cohort": name, "week": w, "active": int(hit.iloc[0]) if len(hit) else 0, "eligible": n})
    table = pd.DataFrame(out, columns=["cohort", "week", "active", "eligible"])
    table["share_active"] = (table["active"] / table["eligible"].where(table["eligible"] > 0)).round(3)
    return table


def conversation_length(conn, filters: Filters) -> pd.DataFrame:
    rows = current_question_days(conn.dialect.name, filters.first_day, filters.last_day, ("questions",))
    lengths = (sa.select(rows.c.conversation_key, rows.c.research_key, sa.func.sum(rows.c.questions).label("n"))
               .where(rows.c.day >= filters.first_day, rows.c.day <= filters.last_day)
               .group_by(rows.c.conversation_key, rows.c.research_key).subquery())
    capped = sa.case((lengths.c.n >= LONGEST, LONGEST), else_=lengths.c.n).label("questions")
    per_participant = _by_participant(conn, filters, sa.select(lengths.c.research_key, capped,
                                                               sa.func.count().label("conversations"))
                                      .group_by(lengths.c.research_key, capped)).dropna(subset=["questions"])
    counted = per_participant.groupby(["questions", "cohort"])["conversations"].sum().reset_index()
    counted["questions"] = counted["questions"].astype(int)
    grid = pd.MultiIndex.from_product([range(1, LONGEST + 1), cohort_list(conn, filters)],
                                      names=["questions", "cohort"])
    table = pd.DataFrame(index=grid).reset_index().merge(counted, on=["questions", "cohort"], how="left")
    return table.fillna({"conversations": 0}).astype({"conversations": int})


def time_of_day(conn, filters: Filters) -> pd.DataFrame:
    rows, select = from_cohort_days(filters, conn.dialect.name, HOUR_COUNTS)
    cohort = cohort_name()
    sums = frame(conn, select(cohort, *(sa.func.sum(rows.c[name]).label(str(h)) for h, name in zip(HOURS, HOUR_COUNTS)))
                 .group_by(cohort))
    counted = sums.melt(id_vars="cohort", var_name="hour", value_name="questions")
    counted["hour"] = counted["hour"].astype(int)
    grid = pd.MultiIndex.from_product([range(24), cohort_list(conn, filters)], names=["hour", "cohort"])
    table = pd.DataFrame(index=grid).reset_index().merge(counted, on=["hour", "cohort"], how="left")
    return table.fillna({"questions": 0}).astype({"questions": int})
