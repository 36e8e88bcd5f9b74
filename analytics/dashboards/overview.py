"""Overview: per cohort, who is enrolled and active, the current disclaimer, questions, voice, safety."""
from __future__ import annotations

from datetime import timedelta

import pandas as pd
import sqlalchemy as sa

from paco.models import Disclaimer, DisclaimerAcknowledgment

from .. import figures
from ..filters import Filters
from ..model import Dashboard, Panel
from ..sql import cohort_list, cohort_name, frame, from_cohort_days, from_question_days, participants, with_cohort
from ..suppression import suppress

TITLE = "Overview"
ASKED = ("questions", "voice", "typed", "escalations")  # the counts summed per cohort
COUNTS = ["enrolled", "active_7d", "active_30d", "acknowledged_current", "questions", "voice", "typed",
          "escalations"]


def current_version(conn) -> int | None:
    table = Disclaimer.__table__
    return conn.execute(sa.select(sa.func.max(table.c.version)).where(table.c.published_at.is_not(None))).scalar()


def build(conn, filters: Filters) -> Dashboard:
    table = summary(conn, filters)
    shown = suppress(table, filters.min_cell, COUNTS, {"voice_share": "voice"})
    per_cohort = shown[shown["cohort"] != "All cohorts"]
    people = per_cohort.melt(id_vars="cohort", value_vars=["enrolled", "active_7d", "active_30d"],
                             var_name="measure", value_name="participants")
    voice = per_cohort.melt(id_vars="cohort", value_vars=["voice", "typed"], var_name="input",
                            value_name="count").rename(columns={"count": "questions"})
    return Dashboard("overview", TITLE, [
        Panel("summary", "By cohort", shown, figures.bars(people, "cohort", "participants", series="measure",
                                                         y_title="participants"),
              note=f"Active: asked at least one question in the 7 or 30 days up to {filters.last_day}. "
                   "Questions, voice and escalations count the date range."),
        Panel("voice", "Questions spoken or typed", voice[["cohort", "input", "questions"]],
              figures.bars(voice, "cohort", "questions", series="input", y_title="questions", stacked=True)),
    ], intro="Enrolment, activity, consent and safety at a glance.")


def summary(conn, filters: Filters) -> pd.DataFrame:
    """One row per cohort (every cohort in the filter, zeros included) and an "All cohorts" row."""
    cohort = cohort_name()
    enrolled = frame(conn, with_cohort(
        sa.select(cohort, sa.func.count().label("enrolled")).select_from(participants), filters)
        .where(sa.func.coalesce(participants.c.enrolled_at, participants.c.created_at) < filters.until)
        .group_by(cohort))
    dialect = conn.dialect.name
    active = []
    for days in (7, 30):
        rows, select = from_question_days(filters, dialect, first_day=filters.last_day - timedelta(days=days - 1))
        someone = select(rows.c.research_key, cohort.label("cohort")).group_by(rows.c.research_key, cohort).subquery()
        active.append(frame(conn, sa.select(someone.c.cohort, sa.func.count().label(f"active_{days}d"))
                            .group_by(someone.c.cohort)))
    rows, select = from_cohort_days(filters, dialect, ASKED)
    asked = frame(conn, select(cohort, *(sa.func.sum(rows.c[name]).label(name) for name in ASKED)).group_by(cohort))
    acks = DisclaimerAcknowledgment.__table__
    version = current_version(conn)
    acknowledged = frame(conn, with_cohort(
        sa.select(cohort, sa.func.count(sa.distinct(acks.c.research_id)).label("acknowledged_current"))
        .select_from(acks).join(participants, participants.c.research_id == acks.c.research_id), filters)
        .where(acks.c.version == (version or -1)).group_by(cohort))
    names = cohort_list(conn, filters)
    table = pd.DataFrame({"cohort": names})
    for part in (enrolled, *active, acknowledged, asked):
        table = table.merge(part, on="cohort", how="outer")
    table = table.fillna(0)
    for name in COUNTS:
        table[name] = table[name].astype(int)
    total = table[COUNTS].sum().to_dict()
    table = pd.concat([table, pd.DataFrame([{"cohort": "All cohorts", **total}])], ignore_index=True)
    # Of the questions whose input the page reported (older pages did not say).
    known = table["voice"] + table["typed"]
    table["voice_share"] = (table["voice"] / known.where(known > 0)).round(3)
    return table[["cohort", *COUNTS, "voice_share"]]
