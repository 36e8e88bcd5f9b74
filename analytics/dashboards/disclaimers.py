"""Disclaimers: acknowledgments by version over time, and who has not acknowledged the current one."""
from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from paco.models import DisclaimerAcknowledgment

from .. import figures
from ..filters import Filters
from ..model import Dashboard, Panel
from ..sql import cohort_list, cohort_name, frame, in_range, participants, week, with_cohort
from ..suppression import suppress
from .overview import current_version

TITLE = "Disclaimers"
LIST_LIMIT = 500
acks = DisclaimerAcknowledgment.__table__


def build(conn, filters: Filters) -> Dashboard:
    k = filters.min_cell
    version = current_version(conn)
    weekly = suppress(by_week(conn, filters), k, ["acknowledgments"])
    weekly_plot = weekly.assign(version="v" + weekly["version"].astype(str))
    coverage_table = suppress(coverage(conn, filters, version), k, ["participants", "acknowledged"],
                              {"share": "acknowledged"})
    pending_table = pending(conn, filters, version)
    return Dashboard("disclaimers", TITLE, [
        Panel("by_week", "Acknowledgments per week, by version", weekly,
              figures.bars(weekly_plot, "week", "acknowledgments", series="version", y_title="acknowledgments",
                           stacked=True)),
        Panel("coverage", f"Active participants who acknowledged the current version (v{version or '-'})",
              coverage_table, figures.bars(coverage_table, "cohort", "share", y_title="share acknowledged")),
        Panel("pending", f"Active participants who have not acknowledged v{version or '-'}", pending_table, None,
              links={"research_id": "participant"}, note=f"At most {LIST_LIMIT} rows."),
    ], intro="Consent: which version each participant has acknowledged.")


def by_week(conn, filters: Filters) -> pd.DataFrame:
    # Per version, over every cohort in the filter.
    bucket = week(acks.c.acknowledged_at, conn.dialect.name).label("week")
    query = (sa.select(bucket, acks.c.version, sa.func.count().label("acknowledgments")).select_from(acks)
             .join(participants, participants.c.research_id == acks.c.research_id))
    return frame(conn, with_cohort(query, filters).where(*in_range(acks.c.acknowledged_at, filters))
                 .group_by(bucket, acks.c.version).order_by(bucket, acks.c.version))


def coverage(conn, filters: Filters, version: int | None) -> pd.DataFrame:
    cohort = cohort_name()
    acknowledged = sa.exists().where(acks.c.research_id == participants.c.research_id,
                                     acks.c.version == (version or -1))
    rows = frame(conn, with_cohort(
        sa.select(cohort, sa.func.count().label("participants"),
                  sa.func.sum(sa.case((acknowledged, 1), else_=0)).label("acknowledged")).select_from(participants),
        filters).where(participants.c.status == "active").group_by(cohort))
    table = pd.DataFrame({"cohort": cohort_list(conn, filters)}).merge(rows, on="cohort", how="left")
    table = table.fillna(0).astype({"participants": int, "acknowledged": int})
    table["share"] = (table["acknowledged"] / table["participants"].where(table["participants"] > 0)).round(3)
    return table


def pending(conn, filters: Filters, version: int | None) -> pd.DataFrame:
    cohort = cohort_name()
    latest = (sa.select(acks.c.research_id, sa.func.max(acks.c.version).label("last_version"))
              .group_by(acks.c.research_id).subquery())
    rows = frame(conn, with_cohort(
        sa.select(participants.c.research_id, cohort, latest.c.last_version).select_from(participants)
        .outerjoin(latest, latest.c.research_id == participants.c.research_id), filters)
        .where(participants.c.status == "active",
               sa.or_(latest.c.last_version.is_(None), latest.c.last_version < (version or -1)))
        .order_by(participants.c.research_id).limit(LIST_LIMIT))
    rows["last_version"] = rows["last_version"].map(lambda v: "none" if pd.isna(v) else f"v{int(v)}")
    return rows
