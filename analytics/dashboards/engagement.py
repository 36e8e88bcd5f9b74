"""Engagement: questions and conversations per day, per participant, by week since enrolment,
per conversation and by time of day, by cohort."""
from __future__ import annotations

from datetime import timedelta

import pandas as pd
import sqlalchemy as sa

from paco.models.rollups import HOURS
from paco.services.rollups import current_question_days

from .. import figures
from ..filters import Filters
from ..model import Dashboard, Panel
from ..sql import (
    EPOCH,
    cohort_list,
    cohort_name,
    day_number,
    every_cell,
    frame,
    from_cohort_days,
    iso_days,
    of_participants,
    participant_frame,
    participants,
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
    cohorts = cohort_list(conn, filters)
    shown = suppress(per_day(conn, filters, cohorts), k, ["questions", "conversations"])
    people = participant_frame(conn, filters, enrolled_by_end=True, enrolled_day=True)
    asked = questions(conn, filters)
    spread = suppress(per_participant(people, asked, filters, cohorts), k, ["participants"])
    retained = suppress(retention(people, asked, filters, cohorts), k, ["active", "eligible"],
                        {"share_active": "active"})
    lengths = suppress(conversation_length(people, asked, filters, cohorts), k, ["conversations"])
    hours = suppress(time_of_day(conn, filters, cohorts), k, ["questions"])
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


def per_day(conn, filters: Filters, cohorts: list[str]) -> pd.DataFrame:
    rows, select = from_cohort_days(filters, conn.dialect.name, ("questions",))
    cohort = cohort_name()
    counted = iso_days(frame(conn, select(rows.c.day, cohort, sa.func.sum(rows.c.questions).label("questions"),
                                          sa.func.sum(rows.c.conversations).label("conversations"))
                             .group_by(rows.c.day, cohort)), "day")
    days = pd.date_range(filters.first_day, filters.last_day, freq="D").strftime("%Y-%m-%d")
    return every_cell(counted, {"day": days, "cohort": cohorts}, "questions", "conversations")


def questions(conn, filters: Filters) -> pd.DataFrame:
    """The question rollup's rows (``research_key``, ``conversation_key``, ``day`` as a day number,
    ``questions``) of the filtered participants, every date up to the range's end: what the
    per-participant panels (retention, the spread, conversation lengths) are computed from in
    pandas. One read instead of three GROUP BYs, each of which sorted these rows in SQL, and
    SQLite parsed each participant's enrolment time again for every row (BENCHMARKS.md, issue 14)."""
    dialect = conn.dialect.name
    rows = current_question_days(dialect, None, filters.last_day, ("questions",))
    return frame(conn, sa.select(rows.c.research_key, rows.c.conversation_key,
                                 day_number(rows.c.day, dialect).label("day"), rows.c.questions)
                 .where(rows.c.day <= filters.last_day, *of_participants(rows.c.research_key, participants.c.id,
                                                                          filters)), plain=True)


def _on_days(asked: pd.DataFrame, filters: Filters) -> pd.DataFrame:
    """The rows of ``questions()`` dated in the range."""
    first, last = (int((d - EPOCH).days) for d in (filters.first_day, filters.last_day))
    return asked[(asked["day"] >= first) & (asked["day"] <= last)]


def per_participant(people: pd.DataFrame, asked: pd.DataFrame, filters: Filters, cohorts: list[str]
                    ) -> pd.DataFrame:
    """Participants (enrolled by the range's end) by how many questions they asked in the range."""
    n = people["research_key"].map(_on_days(asked, filters).groupby("research_key")["questions"].sum()).fillna(0)
    edges = [-1] + [high if high is not None else float("inf") for _, high, _ in PER_PARTICIPANT_BINS]
    order = [label for _, _, label in PER_PARTICIPANT_BINS]
    binned = people.assign(questions=pd.cut(n, bins=edges, labels=order).astype(str))
    counted = binned.groupby(["questions", "cohort"]).size().rename("participants").reset_index()
    return every_cell(counted, {"questions": order, "cohort": cohorts}, "participants")


def retention(people: pd.DataFrame, asked: pd.DataFrame, filters: Filters, cohorts: list[str]) -> pd.DataFrame:
    """Weeks are counted in whole UTC days from the day of enrolment (week 0: that day and the six
    after it), over every date up to the range's end."""
    days = asked[["research_key", "day"]].merge(people[["research_key", "cohort", "enrolled_day"]], on="research_key")
    since = days["day"] - days["enrolled_day"]
    weeks = days.assign(week=since // 7)[since >= 0].drop_duplicates(["research_key", "week"])
    active = weeks.groupby(["cohort", "week"]).size()
    # Whole weeks each participant has been enrolled for, by the end of the range.
    end = (filters.last_day + timedelta(days=1) - EPOCH).days
    weeks_in = (end - people["enrolled_day"]) // 7
    out = []
    for name in cohorts:
        mine = weeks_in[people["cohort"] == name]
        for w in range(RETENTION_WEEKS + 1):
            out.append({"cohort": name, "week": w, "active": int(active.get((name, w), 0)),
                        "eligible": int((mine > w).sum())})  # week w is over for them
    table = pd.DataFrame(out, columns=["cohort", "week", "active", "eligible"])
    table["share_active"] = (table["active"] / table["eligible"].where(table["eligible"] > 0)).round(3)
    return table


def conversation_length(people: pd.DataFrame, asked: pd.DataFrame, filters: Filters, cohorts: list[str]
                        ) -> pd.DataFrame:
    """Conversations by their questions in the range (a conversation can span days)."""
    lengths = _on_days(asked, filters).groupby(["conversation_key", "research_key"])["questions"].sum()
    lengths = lengths.clip(upper=LONGEST).rename("questions").reset_index()
    mine = lengths.merge(people[["research_key", "cohort"]], on="research_key")
    counted = mine.groupby(["questions", "cohort"]).size().rename("conversations").reset_index()
    return every_cell(counted, {"questions": range(1, LONGEST + 1), "cohort": cohorts}, "conversations")


def time_of_day(conn, filters: Filters, cohorts: list[str]) -> pd.DataFrame:
    rows, select = from_cohort_days(filters, conn.dialect.name, HOUR_COUNTS)
    cohort = cohort_name()
    sums = frame(conn, select(cohort, *(sa.func.sum(rows.c[name]).label(str(h)) for h, name in zip(HOURS, HOUR_COUNTS)))
                 .group_by(cohort))
    counted = sums.melt(id_vars="cohort", var_name="hour", value_name="questions")
    counted["hour"] = counted["hour"].astype(int)
    return every_cell(counted, {"hour": range(24), "cohort": cohorts}, "questions")
