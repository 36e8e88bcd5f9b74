"""The SQL pieces every dashboard shares: time buckets that read the same on SQLite and
PostgreSQL, the participant filter, and running a statement into a DataFrame.

Time stamps are stored as UTC (naive text on SQLite, ``timestamptz`` on PostgreSQL); buckets are
UTC days, Monday-start weeks and hours, returned as ISO text or integers so that pandas reads the
same values from both engines.
"""
from __future__ import annotations

from datetime import date

import pandas as pd
import sqlalchemy as sa

from paco.models import Cohort, Conversation, Message, ResearchID
from paco.services.rollups import count_if, current_cohort_days, current_question_days, is_question, utc_day

__all__ = ["count_if", "is_question"]  # shared with the dashboards from the rollups' one definition

from .filters import Filters

participants = ResearchID.__table__
cohorts = Cohort.__table__
conversations = Conversation.__table__
messages = Message.__table__
NO_COHORT = "(no cohort)"


def week(column, dialect: str):
    """The Monday that starts the time stamp's (UTC) week, or a date's week, as 'YYYY-MM-DD' text."""
    if dialect == "postgresql":
        if isinstance(column.type, sa.Date):
            return sa.func.to_char(sa.func.date_trunc("week", sa.cast(column, sa.DateTime())), "YYYY-MM-DD")
        return sa.func.to_char(sa.func.date_trunc("week", sa.func.timezone("UTC", column)), "YYYY-MM-DD")
    return sa.func.date(column, "-6 days", "weekday 1")


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


def frame(conn, statement, columns: list[str] | None = None, plain: bool = False) -> pd.DataFrame:
    """A statement's rows as a DataFrame. ``plain``: every column is a number or text, which the
    driver returns as SQLAlchemy would, so its rows are taken as they come: SQLAlchemy's Row objects
    and turning them back into tuples cost twice the query on the engagement page's 240,000
    rollup rows (BENCHMARKS.md, issue 14)."""
    result = conn.execute(statement)
    names = columns or list(result.keys())
    if plain:
        try:
            return pd.DataFrame(result.cursor.fetchall(), columns=names)
        finally:
            result.close()
    # Plain tuples: pandas probes every Row for namedtuple fields, which cost more than the query.
    return pd.DataFrame([tuple(row) for row in result.fetchall()], columns=names)


def in_range(column, filters: Filters) -> list:
    """WHERE clauses keeping time stamps in the range."""
    return [column >= filters.since, column < filters.until]


def on_days(column, filters: Filters) -> list:
    """WHERE clauses keeping dates (a rollup's day, a record's date) in the range."""
    return [column >= filters.first_day, column <= filters.last_day]


def every_cell(counted: pd.DataFrame, axes: dict, *counts: str) -> pd.DataFrame:
    """``counted`` on every combination of the ``axes`` values (column -> values, in column
    order), the ``counts`` zero where nothing was counted: a chart and its table show empty cells."""
    grid = pd.MultiIndex.from_product(list(axes.values()), names=list(axes))
    table = pd.DataFrame(index=grid).reset_index().merge(counted, on=list(axes), how="left")
    return table.fillna(dict.fromkeys(counts, 0)).astype(dict.fromkeys(counts, int))


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


def from_question_days(filters: Filters, dialect: str, counts: tuple[str, ...] = (), first_day=None):
    """The question rollup's rows (``paco.services.rollups``: stored, and newer messages live) from
    ``first_day`` (default: the range's first day) to the range's last, with their participant and
    cohort, the participant filters applied; only the ``counts`` named are read. Returns the rows'
    subquery and a ``select(*columns)`` over them; group by what the panel shows, sum the counts,
    count distinct keys."""
    first = filters.first_day if first_day is None else first_day
    rows = current_question_days(dialect, first, filters.last_day, counts)

    def select(*columns) -> sa.Select:
        return with_cohort(sa.select(*columns).select_from(rows)
                           .join(participants, participants.c.id == rows.c.research_key), filters).where(
            *on_days(rows.c.day, filters.with_(start=first)))
    return rows, select


def from_cohort_days(filters: Filters, dialect: str, counts: tuple[str, ...]):
    """The cohort rollup's rows (per day, cohort and participant status, with newer messages live)
    in the range, filtered, with the cohort's name: for the charts that count by cohort. Returns
    the rows' subquery and a ``select(*columns)`` over them; sum the counts."""
    rows = current_cohort_days(dialect, filters.first_day, filters.last_day, counts)

    def select(*columns) -> sa.Select:
        query = (sa.select(*columns).select_from(rows).outerjoin(cohorts, cohorts.c.id == rows.c.cohort_key)
                 .where(*on_days(rows.c.day, filters)))
        if filters.cohorts:
            query = query.where(rows.c.cohort_key.in_(filters.cohorts))
        if filters.statuses:
            query = query.where(rows.c.status.in_(filters.statuses))
        return query
    return rows, select


def iso_days(table: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """Date columns as 'YYYY-MM-DD' text (what the tables and charts show on both engines)."""
    for name in columns:
        table[name] = table[name].map(lambda d: d.isoformat() if hasattr(d, "isoformat") else d)
    return table


EPOCH = date(1970, 1, 1)
FIRST_MONDAY = 4  # 1970-01-05, as a day number


def day_number(day, dialect: str):
    """A date as its number of days since 1970-01-01: integer arithmetic, where SQLite's date
    functions parse text on every row."""
    if dialect == "postgresql":
        return day - sa.literal(EPOCH, sa.Date)
    return sa.cast(sa.func.julianday(day), sa.Integer) - 2440587  # julianday('1970-01-01') is 2440587.5


def week_number(day, dialect: str):
    """The day number of the Monday that starts a date's week (dates from 1970-01-05 on)."""
    n = day_number(day, dialect)
    return n - (n - FIRST_MONDAY) % 7


def iso_day_numbers(table: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """Day numbers (day_number, week_number) as 'YYYY-MM-DD' text."""
    for name in columns:
        table[name] = pd.to_datetime(table[name].astype("int64"), unit="D").dt.strftime("%Y-%m-%d")
    return table


def enrolled_at():
    """When a participant was enrolled (their creation, for rows from before enrolment dates)."""
    return sa.func.coalesce(participants.c.enrolled_at, participants.c.created_at)


def participant_frame(conn, filters: Filters, enrolled_by_end: bool = False, enrolled_day: bool = False
                      ) -> pd.DataFrame:
    """The participants the filters keep (``research_key``, ``research_id``, ``cohort``), for
    joining small per-participant aggregates in pandas: a join in SQL from these to a
    hundred-thousand-row aggregate is where SQLite's planner picked nested scans (170 s for one
    cohort's engagement page; BENCHMARKS.md, issue 14). ``enrolled_by_end``: only those enrolled by
    the end of the range; ``enrolled_day``: with the UTC day of their enrolment as a day number."""
    columns = [participants.c.id.label("research_key"), participants.c.research_id, cohort_name()]
    if enrolled_day:
        dialect = conn.dialect.name
        columns.append(day_number(utc_day(enrolled_at(), dialect), dialect).label("enrolled_day"))
    query = with_cohort(sa.select(*columns).select_from(participants), filters)
    if enrolled_by_end:
        query = query.where(enrolled_at() < filters.until)
    return frame(conn, query)


def of_participants(column, key, filters: Filters) -> list:
    """WHERE clauses keeping the rows whose participant the participant filters keep, ``column``
    holding ``research_ids``' ``key`` (its id or research_id): a sub-select, so that the rows are
    read without a join."""
    clauses = participant_clauses(filters)
    return [column.in_(sa.select(key).where(*clauses))] if clauses else []
