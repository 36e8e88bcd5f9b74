"""Adherence: imported and self-reported adherence over time (one scale: the fraction of doses
taken, 0-1), the share adherent (mean ≥ 0.8), engagement against adherence, and who has no data."""
from __future__ import annotations

from datetime import timedelta

import pandas as pd
import sqlalchemy as sa

from paco.models import AdherenceRecord

from .. import figures
from ..filters import Filters
from ..model import Dashboard, Panel
from ..sql import (
    cohort_name,
    frame,
    from_question_days,
    iso_day_numbers,
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
    trend = suppress(over_time(conn, filters), k, ["participants"], {"mean": "participants"})
    trend_plot = trend.assign(series=trend["cohort"] + " · " + trend["measure"])
    share = suppress(adherent_share(conn, filters), k, ["participants", "adherent"], {"share_adherent": "adherent"})
    points = engagement_vs_adherence(conn, filters)
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


def _dated(filters: Filters) -> list:
    return [records.c.date >= filters.first_day, records.c.date <= filters.last_day]


def _records(filters: Filters, *columns) -> sa.Select:
    """SELECT over the range's records and their participant (research_ids read by its unique
    research_id, row by row), the participant filters applied."""
    return with_cohort(sa.select(*columns).select_from(records).join(
        participants, participants.c.research_id == records.c.research_id), filters).where(*_dated(filters))


def over_time(conn, filters: Filters) -> pd.DataFrame:
    cohort, bucket = cohort_name(), week_number(records.c.date, conn.dialect.name).label("week")
    keys = (bucket, cohort, records.c.measure)
    people = sa.func.count(sa.distinct(records.c.research_id)).label("participants")
    table = frame(conn, _records(filters, *keys, people, sa.func.avg(records.c.value).label("mean"))
                  .group_by(*keys).order_by(*keys))
    return iso_day_numbers(table, "week").round({"mean": 3})


def adherent_share(conn, filters: Filters) -> pd.DataFrame:
    cohort, bucket = cohort_name(), week_number(records.c.date, conn.dialect.name).label("week")
    person_week = (_records(filters, records.c.research_id, bucket, cohort, sa.func.avg(records.c.value).label("mean"))
                   .group_by(records.c.research_id, bucket, cohort).subquery())
    table = frame(conn, sa.select(person_week.c.week, person_week.c.cohort,
                                  sa.func.count().label("participants"),
                                  sa.func.sum(sa.case((person_week.c.mean >= ADHERENT, 1), else_=0)).label("adherent"))
                  .group_by(person_week.c.week, person_week.c.cohort)
                  .order_by(person_week.c.week, person_week.c.cohort))
    table["adherent"] = table["adherent"].astype(int)
    table["share_adherent"] = (table["adherent"] / table["participants"]).round(3)
    return iso_day_numbers(table, "week")


def engagement_vs_adherence(conn, filters: Filters) -> pd.DataFrame:
    cohort = cohort_name()
    adherence = frame(conn, _records(filters, records.c.research_id, cohort,
                                     sa.func.avg(records.c.value).label("mean_adherence"))
                      .group_by(records.c.research_id, cohort)).round({"mean_adherence": 3})
    rows, select = from_question_days(filters, conn.dialect.name, ("questions",))
    asked = frame(conn, select(participants.c.research_id.label("research_id"),
                               sa.func.sum(rows.c.questions).label("questions"))
                  .group_by(participants.c.research_id))
    table = adherence.merge(asked, on="research_id", how="left").fillna({"questions": 0})
    table["questions"] = table["questions"].astype(int)
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
