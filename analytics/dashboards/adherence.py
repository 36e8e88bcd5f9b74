"""Adherence: imported and self-reported adherence over time (one scale: the fraction of doses
taken, 0-1), the share adherent (mean ≥ 0.8), engagement against adherence, and who has no data."""
from __future__ import annotations

from datetime import timedelta

import pandas as pd
import sqlalchemy as sa

from paco.models import AdherenceRecord
from paco.services.rollups import current_question_days

from .. import figures
from ..filters import Filters
from ..model import Dashboard, Panel
from ..sql import (
    cohort_name,
    frame,
    iso_day_numbers,
    on_days,
    participant_clauses,
    participant_frame,
    participants,
    week_number,
    with_cohort,
)
from ..suppression import suppress
from . import adherence_checkins

TITLE = "Adherence"
ADHERENT = 0.8
WORKLIST_LIMIT = 500
records = AdherenceRecord.__table__


def build(conn, filters: Filters) -> Dashboard:
    k = filters.min_cell
    taken = records_in_range(conn, filters)
    trend = suppress(over_time(taken), k, ["participants"], {"mean": "participants"})
    trend_plot = trend.assign(series=trend["cohort"] + " · " + trend["measure"])
    share = suppress(adherent_share(taken), k, ["participants", "adherent"], {"share_adherent": "adherent"})
    points = engagement_vs_adherence(conn, filters, taken)
    missing = worklist(conn, filters)
    return Dashboard("adherence", TITLE, [
        Panel("over_time", "Mean adherence by week, cohort and measure", trend,
              figures.lines(trend_plot, "week", "mean", "series", "mean adherence (0-1)"),
              note="Pill count, refill PDC, MEMS and self-report, each on the fraction of doses taken (0-1). "
                   "Participants: how many had a record of that measure that week."),
        Panel("adherent", f"Share adherent (mean ≥ {ADHERENT}) by week", share,
              figures.lines(share, "week", "share_adherent", "cohort", "share adherent")),
        Panel("engagement", "Engagement and adherence per participant", points,
              figures.scatter_with_trend(points, "questions", "mean_adherence", "cohort", "questions in the range",
                                         "mean adherence (0-1)"),
              note="One point per participant with adherence data in the range; lines are least-squares fits.",
              links={"research_id": "participant"}),
        Panel("worklist", f"Active participants with no adherence data in the last {filters.stale_days} days",
              missing, None, links={"research_id": "participant"},
              note=f"Up to {filters.last_day}; at most {WORKLIST_LIMIT} rows, longest without data first."),
        *adherence_checkins.panels(conn, filters),
    ], intro="Adherence from every source on one scale, and who needs follow-up.")


def records_in_range(conn, filters: Filters) -> pd.DataFrame:
    """The range's records of the filtered participants (``research_key``, ``week`` as the day
    number of its Monday, ``measure``, ``value``, and the participant's ``research_id`` and
    ``cohort``), read once for the three panels below: each used to group them in SQL, a sort of
    every record in the range (BENCHMARKS.md, issue 14)."""
    week = week_number(records.c.date, conn.dialect.name).label("week")
    taken = frame(conn, sa.select(participants.c.id.label("research_key"), week, records.c.measure, records.c.value)
                  .select_from(records).join(participants, participants.c.research_id == records.c.research_id)
                  .where(*on_days(records.c.date, filters), *participant_clauses(filters)), plain=True)
    people = participant_frame(conn, filters).set_index("research_key")
    return taken.assign(research_id=taken["research_key"].map(people["research_id"]),
                        cohort=taken["research_key"].map(people["cohort"]))


def over_time(taken: pd.DataFrame) -> pd.DataFrame:
    table = (taken.groupby(["week", "cohort", "measure"])
             .agg(participants=("research_key", "nunique"), mean=("value", "mean")).reset_index())
    return iso_day_numbers(table, "week").round({"mean": 3})


def adherent_share(taken: pd.DataFrame) -> pd.DataFrame:
    person_week = taken.groupby(["research_key", "week", "cohort"])["value"].mean().rename("mean").reset_index()
    # Rounded first, so that a float sum such as 0.9 + 0.7 counts as the 0.8 it is.
    person_week["adherent"] = person_week["mean"].round(9) >= ADHERENT
    table = (person_week.groupby(["week", "cohort"])
             .agg(participants=("research_key", "size"), adherent=("adherent", "sum")).reset_index())
    table["adherent"] = table["adherent"].astype(int)
    table["share_adherent"] = (table["adherent"] / table["participants"]).round(3)
    return iso_day_numbers(table, "week")


def engagement_vs_adherence(conn, filters: Filters, taken: pd.DataFrame) -> pd.DataFrame:
    table = (taken.groupby(["research_key", "research_id", "cohort"])["value"].mean().round(3)
             .rename("mean_adherence").reset_index())
    rows = current_question_days(conn.dialect.name, filters.first_day, filters.last_day, ("questions",))
    asked = frame(conn, sa.select(rows.c.research_key, sa.func.sum(rows.c.questions))
                  .where(*on_days(rows.c.day, filters))
                  .group_by(rows.c.research_key), plain=True).set_index("research_key")
    table["questions"] = table["research_key"].map(asked.iloc[:, 0]).fillna(0).astype(int)
    return table[["research_id", "cohort", "questions", "mean_adherence"]].sort_values("research_id",
                                                                                       ignore_index=True)


def worklist(conn, filters: Filters) -> pd.DataFrame:
    cohort, cutoff = cohort_name(), filters.last_day - timedelta(days=filters.stale_days - 1)
    last = (sa.select(records.c.research_id, sa.func.max(records.c.date).label("last_record"))
            .where(records.c.date <= filters.last_day).group_by(records.c.research_id).subquery())
    rows = frame(conn, with_cohort(
        sa.select(participants.c.research_id, cohort, last.c.last_record).select_from(participants)
        .outerjoin(last, last.c.research_id == participants.c.research_id), filters)
        .where(participants.c.status == "active", sa.or_(last.c.last_record.is_(None), last.c.last_record < cutoff))
        .order_by(last.c.last_record.is_not(None), last.c.last_record, participants.c.research_id)
        .limit(WORKLIST_LIMIT))
    rows["last_record"] = rows["last_record"].map(lambda d: d.isoformat() if d else "never")
    return rows
