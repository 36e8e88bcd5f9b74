"""The adherence dashboard's check-in panels: participants' daily answers by week and cohort, and
the barriers they named, by cohort. Each participant-day counts once, with its latest answer (a
change the same day replaces the day's answer, as it replaces the adherence record's value)."""
from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from paco.models import BARRIERS, AdherenceRecord, Checkin

from .. import figures
from ..filters import Filters
from ..model import Panel
from ..sql import cohort_list, cohort_name, count_if, every_cell, frame, on_days, participants, week, with_cohort
from ..suppression import suppress

answers = Checkin.__table__
records = AdherenceRecord.__table__


def panels(conn, filters: Filters) -> list[Panel]:
    k = filters.min_cell
    weekly = suppress(checkins_by_week(conn, filters), k, ["participants", "days", "all", "some", "none", "changed"],
                      {"share_all": "days"})
    named = suppress(barriers_by_cohort(conn, filters), k, ["days"], {"share": "days"})
    return [
        Panel("checkins", "Daily check-ins by week and cohort", weekly,
              figures.bars(weekly, "week", "days", series="cohort", y_title="days answered"),
              note="Days a participant answered \"Did you take your P.A.D. medicines today?\" (their own calendar "
                   "day), by the day's latest answer: all (1.0), some (0.5), none (0.0). Changed: days answered "
                   "more than once. The answers are also in the self_report series above."),
        Panel("barriers", "Barriers named, by cohort", named,
              figures.bars(named, "barrier", "share", series="cohort", y_title="share of the cohort's named barriers",
                           horizontal=True),
              note="Self-reported days with a reason for missed doses (check-ins, or entered by hand); "
                   "share: of the cohort's days that named one."),
    ]


def _latest(filters: Filters):
    """The id of each participant-day's latest answer in the range."""
    return (sa.select(sa.func.max(answers.c.id).label("id"), sa.func.count().label("answers"))
            .where(*on_days(answers.c.date, filters))
            .group_by(answers.c.research_id, answers.c.date).subquery())


def checkins_by_week(conn, filters: Filters) -> pd.DataFrame:
    latest, cohort = _latest(filters), cohort_name()
    bucket = week(answers.c.date, conn.dialect.name).label("week")
    table = frame(conn, with_cohort(
        sa.select(bucket, cohort, sa.func.count(sa.distinct(answers.c.research_id)).label("participants"),
                  sa.func.count().label("days"), count_if(answers.c.taken == "all").label("all"),
                  count_if(answers.c.taken == "some").label("some"), count_if(answers.c.taken == "none").label("none"),
                  count_if(latest.c.answers > 1).label("changed"))
        .select_from(answers).join(latest, latest.c.id == answers.c.id)
        .join(participants, participants.c.research_id == answers.c.research_id), filters)
        .group_by(bucket, cohort).order_by(bucket, cohort))
    for name in ("participants", "days", "all", "some", "none", "changed"):
        table[name] = table[name].astype(int)
    table["share_all"] = (table["all"] / table["days"]).round(3)
    return table


def barriers_by_cohort(conn, filters: Filters) -> pd.DataFrame:
    """Every cohort × barrier (zeros included), from the self-reported records that name one."""
    cohort = cohort_name()
    rows = frame(conn, with_cohort(
        sa.select(cohort, records.c.barrier, sa.func.count().label("days")).select_from(records)
        .join(participants, participants.c.research_id == records.c.research_id), filters)
        .where(records.c.barrier.is_not(None), *on_days(records.c.date, filters))
        .group_by(cohort, records.c.barrier))
    table = every_cell(rows, {"cohort": cohort_list(conn, filters), "barrier": list(BARRIERS)}, "days")
    totals = table.groupby("cohort")["days"].transform("sum")
    table["share"] = (table["days"] / totals.where(totals > 0)).round(3)
    return table
