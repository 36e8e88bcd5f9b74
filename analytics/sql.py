"""The SQL pieces every dashboard shares: time buckets that read the same on SQLite and
PostgreSQL, the participant filter, and running a statement into a DataFrame.

Time stamps are stored as UTC (naive text on SQLite, ``timestamptz`` on PostgreSQL); buckets are
UTC days, Monday-start weeks and hours, returned as ISO text or integers so that pandas reads the
same values from both engines.
"""
from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from paco.models import Cohort, Conversation, Message, ResearchID

from .filters import Filters

participants = ResearchID.__table__
cohorts = Cohort.__table__
conversations = Conversation.__table__
messages = Message.__table__
NO_COHORT = "(no cohort)"


def day(column, dialect: str):
    """The UTC calendar day of a time stamp, as 'YYYY-MM-DD' text."""
    if dialect == "postgresql":
        return sa.func.to_char(sa.func.timezone("UTC", column), "YYYY-MM-DD")
    return sa.func.date(column)


def week(column, dialect: str):
    """The Monday that starts the time stamp's (UTC) week, or a date's week, as 'YYYY-MM-DD' text."""
    if dialect == "postgresql":
        if isinstance(column.type, sa.Date):
            return sa.func.to_char(sa.func.date_trunc("week", sa.cast(column, sa.DateTime())), "YYYY-MM-DD")
        return sa.func.to_char(sa.func.date_trunc("week", sa.func.timezone("UTC", column)), "YYYY-MM-DD")
    return sa.func.date(column, "-6 days", "weekday 1")


def hour(column, dialect: str):
    if dialect == "postgresql":
        return sa.cast(sa.extract("hour", sa.func.timezone("UTC", column)), sa.Integer)
    return sa.cast(sa.func.strftime("%H", column), sa.Integer)


def days_between(later, earlier, dialect: str):
    """Whole days from ``earlier`` to ``later`` (both time stamps)."""
    if dialect == "postgresql":
        return sa.cast(sa.func.floor(sa.extract("epoch", later - earlier) / 86400), sa.Integer)
    return sa.cast(sa.func.julianday(later) - sa.func.julianday(earlier), sa.Integer)


def cohort_name():
    return sa.func.coalesce(cohorts.c.name, NO_COHORT).label("cohort")


def participant_clauses(filters: Filters) -> list:
    """WHERE clauses on ``research_ids`` for the cohort and status filters."""
    clauses = []
    if filters.cohorts:
        clauses.append(participants.c.cohort_id.in_(filters.cohorts))
    if filters.statuses:
        clauses.append(participants.c.status.in_(filters.statuses))
    return clauses


def with_cohort(select: sa.Select, filters: Filters) -> sa.Select:
    """Join ``research_ids`` to its cohort's name and apply the participant filters."""
    return select.outerjoin(cohorts, cohorts.c.id == participants.c.cohort_id).where(*participant_clauses(filters))


def frame(conn, statement, columns: list[str] | None = None) -> pd.DataFrame:
    result = conn.execute(statement)
    return pd.DataFrame(result.all(), columns=columns or list(result.keys()))


def in_range(column, filters: Filters) -> list:
    return [column >= filters.since, column < filters.until]


def cohort_list(conn, filters: Filters) -> list[str]:
    """The cohorts a dashboard shows (every one in the filter, even those with no rows)."""
    query = sa.select(cohorts.c.name).order_by(cohorts.c.name)
    if filters.cohorts:
        return list(conn.execute(query.where(cohorts.c.id.in_(filters.cohorts))).scalars())
    names = list(conn.execute(query).scalars())
    if conn.execute(sa.select(participants.c.id).where(participants.c.cohort_id.is_(None)).limit(1)).first():
        names.append(NO_COHORT)
    return names


def from_messages(*columns) -> sa.Select:
    """SELECT over messages with their conversation and participant (and cohort, via with_cohort)."""
    return (sa.select(*columns).select_from(messages)
            .join(conversations, conversations.c.conversation_id == messages.c.conversation_id)
            .join(participants, participants.c.research_id == conversations.c.research_id))


def is_question():
    """A participant's question: a user message that is not their answer to the check-in card
    (stored as a message with input "checkin" so the conversation reads as it happened)."""
    return sa.and_(messages.c.role == "user", messages.c.input.is_distinct_from("checkin"))


def count_if(condition):
    return sa.func.sum(sa.case((condition, 1), else_=0))


def floor_to(value, step: int, dialect: str):
    """``value`` rounded down to a multiple of ``step`` (values are never negative)."""
    if dialect == "postgresql":
        return sa.func.floor(value / step) * step
    return sa.cast(value / step, sa.Integer) * step


def ms_bin(column, dialect: str):
    """Latency bins: 10 ms below 1 s, 100 ms below 10 s, 1 s above. Percentiles are read from
    these counts, so that only bins (not every turn) leave the database."""
    return sa.case((column < 1000, floor_to(column, 10, dialect)),
                   (column < 10000, floor_to(column, 100, dialect)),
                   else_=floor_to(column, 1000, dialect))


def binned_percentile(bins: pd.DataFrame, q: float, value: str = "bin", count: str = "n") -> float | None:
    """The nearest-rank percentile (the smallest bin with at least ``q`` of the counts at or below it)."""
    if bins.empty or bins[count].sum() == 0:
        return None
    ordered = bins.sort_values(value)
    needed = -(-q * ordered[count].sum() // 1)  # ceil
    cumulative = ordered[count].cumsum()
    return float(ordered.loc[cumulative >= needed, value].iloc[0])
