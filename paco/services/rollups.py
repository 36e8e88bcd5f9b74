"""Keeping the dashboards' rollups (paco.models.rollups) up to date, and reading them with what
came after them.

A refresh moves a rollup's watermark forward over source rows older than ``LAG`` and recomputes,
from the raw rows, every key those rows touched: the conversations (``question_days``) or the days
(``turn_days``, ``latency_bins``). Recomputing instead of adding keeps a refresh idempotent, and
``current_*`` adds the rows after the watermark, aggregated the same way, so a dashboard is exact
whether the rollups are fresh, stale or empty; a refresh only makes it faster.

Why ``LAG``: a question's safety flag from the classifier, and every row of a turn, are written
within seconds of the question; rows older than ten minutes no longer change.

Concurrency: a refresh step first writes its rollup's ``rollup_state`` row, so that two refreshes
take turns (PostgreSQL's row lock, SQLite's write lock); the second finds the work done.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from ..models import (
    Conversation,
    Message,
    ResearchID,
    TurnMetrics,
    cohort_days,
    latency_bins,
    question_days,
    rollup_participants,
    rollup_state,
    turn_days,
    utcnow,
)
from ..models.rollups import (
    HOURS,
    LATENCY_MEASURES,
    NO_COHORT_KEY,
    NO_PROVIDER,
    QUESTION_COUNTS,
    TOPIC_KEYS,
    TURN_COUNTS,
)

LAG = timedelta(minutes=10)
CHUNK = 50_000  # source rows per refresh step: a step is one short transaction
IN_LIST = 5_000  # keys per IN list: within every driver's limits on bound parameters
SERIALIZATION_FAILURE = "40001"  # PostgreSQL: a concurrent refresh wrote the same state row

messages, conversations, participants, metrics = (Message.__table__, Conversation.__table__,
                                                  ResearchID.__table__, TurnMetrics.__table__)


# -- time buckets (UTC), the same values on SQLite and PostgreSQL --------------------------------

def utc_day(column, dialect: str):
    """The UTC calendar day of a time stamp, typed as a date."""
    if dialect == "postgresql":
        return sa.cast(sa.func.timezone("UTC", column), sa.Date)
    return sa.type_coerce(sa.func.date(column), sa.Date)


def utc_hour(column, dialect: str):
    if dialect == "postgresql":
        return sa.cast(sa.extract("hour", sa.func.timezone("UTC", column)), sa.Integer)
    return sa.cast(sa.func.strftime("%H", column), sa.Integer)


def count_if(condition):
    return sa.func.sum(sa.case((condition, 1), else_=0))


def is_question():
    """A participant's question: a user message that is not their answer to the check-in card
    (stored as a message with input "checkin" so the conversation reads as it happened)."""
    return sa.and_(messages.c.role == "user", messages.c.input.is_distinct_from("checkin"))


def _floor_to(value, step: int, dialect: str):
    if dialect == "postgresql":
        return sa.func.floor(value / step) * step
    return sa.cast(value / step, sa.Integer) * step


def ms_bin(column, dialect: str):
    """Latency bins: 10 ms below 1 s, 100 ms below 10 s, 1 s above (values are never negative)."""
    return sa.cast(sa.case((column < 1000, _floor_to(column, 10, dialect)),
                           (column < 10000, _floor_to(column, 100, dialect)),
                           else_=_floor_to(column, 1000, dialect)), sa.Float)


# -- the aggregates, one definition for the stored rows and the live ones -------------------------

def question_rows(dialect: str, *where, counts: tuple[str, ...] = QUESTION_COUNTS) -> sa.Select:
    """``question_days`` rows (with the ``counts`` named) aggregated from the raw messages that
    match ``where``."""
    day = utc_day(messages.c.created_at, dialect)
    hour = utc_hour(messages.c.created_at, dialect)
    topic = sa.case((messages.c.topic.in_(TOPIC_KEYS), messages.c.topic), else_="other")
    formulas = dict(zip(QUESTION_COUNTS, [
        sa.func.count(), count_if(messages.c.input == "voice"), count_if(messages.c.input == "text"),
        count_if(messages.c.safety_category.is_not(None)),
        *(count_if(topic == key) for key in TOPIC_KEYS), *(count_if(hour == h) for h in HOURS)]))
    return (sa.select(day.label("day"), conversations.c.id.label("conversation_key"),
                      participants.c.id.label("research_key"), *(formulas[name].label(name) for name in counts))
            .select_from(messages)
            .join(conversations, conversations.c.conversation_id == messages.c.conversation_id)
            .join(participants, participants.c.research_id == conversations.c.research_id)
            .where(is_question(), *where)
            .group_by(day, conversations.c.id, participants.c.id))


def _turn_keys(dialect: str):
    return (utc_day(metrics.c.created_at, dialect).label("day"),
            sa.func.coalesce(messages.c.provider, NO_PROVIDER).label("provider"),
            sa.func.coalesce(messages.c.model, NO_PROVIDER).label("model"))


def _turns(*columns) -> sa.Select:
    return sa.select(*columns).select_from(metrics).join(messages, messages.c.id == metrics.c.message_id)


def turn_rows(dialect: str, *where) -> sa.Select:
    """``turn_days`` rows aggregated from the raw turn metrics that match ``where``."""
    keys = _turn_keys(dialect)
    spoken = metrics.c.tts_ms.is_not(None)
    counts = [sa.func.count(), count_if(messages.c.status == "failed"),
              count_if(sa.and_(metrics.c.provider_errors > 0, messages.c.status != "failed")),
              count_if(metrics.c.tts_errors > 0),
              sa.func.sum(sa.case((spoken, metrics.c.audio_cache_hits), else_=0)),
              sa.func.sum(sa.case((spoken, metrics.c.sentences), else_=0))]
    return _turns(*keys, *(count.label(name) for count, name in zip(counts, TURN_COUNTS))).where(
        *where).group_by(*keys)


def latency_rows(dialect: str, *where) -> sa.Select:
    """``latency_bins`` rows aggregated from the raw turn metrics that match ``where``."""
    keys = _turn_keys(dialect)
    parts = []
    for measure in LATENCY_MEASURES:
        column = metrics.c[measure]
        bucket = ms_bin(column, dialect)
        parts.append(_turns(*keys, sa.literal(measure, sa.String(20)).label("measure"), bucket.label("bin"),
                            sa.func.count().label("n"))
                     .where(column.is_not(None), *where).group_by(*keys, bucket))
    return sa.union_all(*parts)


# -- reading: the stored rows and what came after them --------------------------------------------

def _watermark(name: str):
    return (sa.select(sa.func.coalesce(sa.func.max(rollup_state.c.watermark), 0))
            .where(rollup_state.c.name == name).scalar_subquery())


def current_question_days(dialect: str, first_day=None, last_day=None,
                          counts: tuple[str, ...] = QUESTION_COUNTS) -> sa.Subquery:
    """Every question's day row with the ``counts`` named: the rollup up to its watermark, and newer
    messages live (within one statement, so both halves see the same watermark). A key can appear
    twice (a stored and a live row): readers sum the counts and count distinct keys."""
    stored = sa.select(question_days.c.day, question_days.c.conversation_key, question_days.c.research_key,
                       *(question_days.c[name] for name in counts))
    live = question_rows(dialect, messages.c.id > _watermark("questions"), counts=counts)
    if first_day is not None:
        stored = stored.where(question_days.c.day >= first_day)
    if last_day is not None:
        stored = stored.where(question_days.c.day <= last_day)
    return sa.union_all(stored, live).subquery("question_days_now")


def current_cohort_days(dialect: str, first_day, last_day, counts: tuple[str, ...]) -> sa.Subquery:
    """Per day, cohort and status, under the participants' cohort and status now: the rollup; newer
    messages live; and for anyone moved (or whose status changed) since the rollup counted them,
    their stored days taken away from where they were counted and added where they are now. A
    conversation's day already in ``question_days`` is not counted again among a live day's."""
    stored = (sa.select(cohort_days.c.day, cohort_days.c.cohort_key, cohort_days.c.status,
                        cohort_days.c.conversations, *(cohort_days.c[name] for name in counts))
              .where(cohort_days.c.day >= first_day, cohort_days.c.day <= last_day))
    rows = question_rows(dialect, messages.c.id > _watermark("questions"), counts=counts).subquery()
    known = sa.exists().where(question_days.c.day == rows.c.day,
                              question_days.c.conversation_key == rows.c.conversation_key)
    live = by_cohort(rows, counts, conversations_count=sa.func.sum(sa.case((known, 0), else_=1)))
    seen = rollup_participants
    moved = (sa.select(participants.c.id, _cohort_key().label("cohort_key"), participants.c.status,
                       seen.c.cohort_key.label("counted_key"), seen.c.status.label("counted_status"))
             .join(seen, seen.c.research_key == participants.c.id)
             .where(_counted_elsewhere()).subquery())

    def moved_days(key, status, sign: int) -> sa.Select:
        return (sa.select(question_days.c.day, key.label("cohort_key"), status.label("status"),
                          (sign * sa.func.count()).label("conversations"),
                          *((sign * sa.func.sum(question_days.c[name])).label(name) for name in counts))
                .select_from(question_days).join(moved, moved.c.id == question_days.c.research_key)
                # IN as well as the join: the planner then reads by research_key from the few moved
                # (usually none) instead of joining every stored day to them
                .where(question_days.c.research_key.in_(sa.select(moved.c.id)),
                       question_days.c.day >= first_day, question_days.c.day <= last_day)
                .group_by(question_days.c.day, key, status))
    return sa.union_all(stored, live, moved_days(moved.c.counted_key, moved.c.counted_status, -1),
                        moved_days(moved.c.cohort_key, moved.c.status, 1)).subquery("cohort_days_now")


def current_turn_days(dialect: str) -> sa.Subquery:
    live = turn_rows(dialect, metrics.c.id > _watermark("turns"))
    return sa.union_all(sa.select(*turn_days.c), live).subquery("turn_days_now")


def current_latency_bins(dialect: str) -> sa.Subquery:
    live = latency_rows(dialect, metrics.c.id > _watermark("turns"))
    return sa.union_all(sa.select(*latency_bins.c), live.subquery().select()).subquery("latency_bins_now")


# -- refreshing ------------------------------------------------------------------------------------

def refresh(engine: sa.Engine, now: datetime | None = None, lag: timedelta = LAG, max_steps: int | None = None,
            chunk: int | None = None, progress: Callable[[str, int, int], None] | None = None) -> dict[str, int]:
    """Roll source rows older than ``lag`` into the rollups, ``chunk`` (default ``CHUNK``) rows per
    transaction, at most ``max_steps`` steps per rollup, and recount the cohort days of participants
    moved since; returns the source rows rolled per rollup. ``progress(name, done, total)`` is
    called after each step."""
    cut = (now or utcnow()) - lag
    done = {}
    for name, source, recompute in (("questions", messages, _recompute_questions),
                                    ("turns", metrics, _recompute_turns)):
        done[name], steps = 0, 0
        while max_steps is None or steps < max_steps:
            try:
                with _snapshot(engine) as conn, conn.begin():
                    rolled, remaining = _step(conn, name, source, cut, recompute, chunk or CHUNK)
            except sa.exc.OperationalError as err:
                if getattr(err.orig, "sqlstate", None) != SERIALIZATION_FAILURE:
                    raise
                break  # another refresh moved this rollup meanwhile: it did the work
            steps += 1
            done[name] += rolled
            if progress:
                progress(name, done[name], done[name] + remaining)
            if not rolled:
                break
    return done


def _snapshot(engine: sa.Engine):
    """A connection whose transaction reads one snapshot: a participant moved while a step runs is
    then either wholly before it or wholly after (SQLite's transactions are serializable already)."""
    conn = engine.connect()
    if engine.dialect.name == "postgresql":
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
    return conn


def pending(engine: sa.Engine, now: datetime | None = None, lag: timedelta = LAG) -> dict[str, int]:
    """How many source rows older than ``lag`` each rollup does not hold yet."""
    cut = (now or utcnow()) - lag
    with engine.connect() as conn:
        marks = dict(conn.execute(sa.select(rollup_state.c.name, rollup_state.c.watermark)).all())
        return {name: max(0, _target(conn, source, cut) - marks.get(name, 0))
                for name, source in (("questions", messages), ("turns", metrics))}


def rebuild(engine: sa.Engine, **options) -> dict[str, int]:
    """Empty the rollups and roll every source row again (after a topic rule changed, or to check)."""
    with engine.begin() as conn:
        _lock(conn, "questions")
        _lock(conn, "turns")
        for table in (question_days, cohort_days, rollup_participants, turn_days, latency_bins):
            conn.execute(table.delete())
        conn.execute(rollup_state.update().values(watermark=0))
    return refresh(engine, **options)


def _lock(conn, name: str) -> None:
    """Take the rollup's state row for this transaction: a write first, so that on SQLite too the
    lock is held before anything is read. The row is created on first use (two first uses at once
    both get past the insert)."""
    dialect = sqlite if conn.dialect.name == "sqlite" else postgresql
    conn.execute(dialect.insert(rollup_state).values(name=name, watermark=0, refreshed_at=utcnow())
                 .on_conflict_do_nothing(index_elements=["name"]))
    conn.execute(rollup_state.update().where(rollup_state.c.name == name).values(refreshed_at=utcnow()))


def _target(conn, source: sa.Table, cut: datetime) -> int:
    """The highest id of a source row older than ``cut``. Read down the primary key from the
    newest row: live, only the last minutes' rows are passed over."""
    return conn.execute(sa.select(source.c.id).where(source.c.created_at < cut)
                        .order_by(source.c.id.desc()).limit(1)).scalar() or 0


def _step(conn, name: str, source: sa.Table, cut: datetime, recompute, chunk: int) -> tuple[int, int]:
    _lock(conn, name)
    old = conn.execute(sa.select(rollup_state.c.watermark).where(rollup_state.c.name == name)).scalar()
    target = _target(conn, source, cut)
    new = max(old, min(target, old + chunk))
    conn.execute(rollup_state.update().where(rollup_state.c.name == name).values(watermark=new))
    recompute(conn, old, new)
    return new - old, target - new


def _recompute_questions(conn, old: int, new: int) -> None:
    dialect, names = conn.dialect.name, [c.name for c in question_days.c]
    if old == 0 and new > 0:  # an empty rollup (a first build): nothing to replace
        conn.execute(question_days.insert().from_select(names, question_rows(dialect, messages.c.id <= new)))
        conn.execute(cohort_days.delete())
        conn.execute(rollup_participants.delete())
        _recount_cohorts(conn, None)
        _remember_participants(conn, None)
        return
    touched = (sa.select(conversations.c.id).select_from(messages)
               .join(conversations, conversations.c.conversation_id == messages.c.conversation_id)
               .where(messages.c.id > old, messages.c.id <= new).distinct())
    keys = [row[0] for row in conn.execute(touched)]
    days: set = set()
    for chunk in _slices(keys):
        mine = question_days.c.conversation_key.in_(chunk)
        days.update(conn.execute(sa.select(question_days.c.day).where(mine).distinct()).scalars())
        conn.execute(question_days.delete().where(mine))
        conn.execute(question_days.insert().from_select(
            names, question_rows(dialect, conversations.c.id.in_(chunk), messages.c.id <= new)))
        days.update(conn.execute(sa.select(question_days.c.day).where(mine).distinct()).scalars())
    moved = _moved(conn)
    if moved:
        days.update(conn.execute(sa.select(question_days.c.day)
                                 .where(question_days.c.research_key.in_(moved)).distinct()).scalars())
    if days:
        _recount_cohorts(conn, sorted(days))
    if moved:
        _remember_participants(conn, moved)


def _counted_elsewhere():
    """A participant whose cohort or status is not the one ``rollup_participants`` counted them under."""
    seen = rollup_participants
    return sa.or_(seen.c.cohort_key != _cohort_key(), seen.c.status != participants.c.status)


def _cohort_key():
    return sa.func.coalesce(participants.c.cohort_id, NO_COHORT_KEY)


def by_cohort(rows, counts: tuple[str, ...], conversations_count=None) -> sa.Select:
    """Question-day ``rows`` (the table or a live subquery) summed per day, cohort and status."""
    key = _cohort_key()
    return (sa.select(rows.c.day, key.label("cohort_key"), participants.c.status,
                      (conversations_count if conversations_count is not None else sa.func.count())
                      .label("conversations"),
                      *(sa.func.sum(rows.c[name]).label(name) for name in counts))
            .select_from(rows).join(participants, participants.c.id == rows.c.research_key)
            .group_by(rows.c.day, key, participants.c.status))


def _recount_cohorts(conn, days: list | None) -> None:
    """Count ``cohort_days`` again from ``question_days`` for ``days`` (None: every day)."""
    names = [c.name for c in cohort_days.c]
    if days is None:
        conn.execute(cohort_days.insert().from_select(names, by_cohort(question_days, QUESTION_COUNTS)))
        return
    for chunk in _slices(days):
        conn.execute(cohort_days.delete().where(cohort_days.c.day.in_(chunk)))
        conn.execute(cohort_days.insert().from_select(
            names, by_cohort(question_days, QUESTION_COUNTS).where(question_days.c.day.in_(chunk))))


def _moved(conn) -> list[int]:
    """Participants whose cohort or status is not the one their cohort days were counted under."""
    seen = rollup_participants
    return list(conn.execute(
        sa.select(participants.c.id).select_from(participants)
        .outerjoin(seen, seen.c.research_key == participants.c.id)
        .where(sa.or_(seen.c.research_key.is_(None), _counted_elsewhere()))).scalars())


def _remember_participants(conn, keys: list[int] | None) -> None:
    """Remember the cohort and status of the participants ``keys`` (None: everyone, into an empty table)."""
    query = sa.select(participants.c.id, _cohort_key(), participants.c.status)
    columns = ["research_key", "cohort_key", "status"]
    if keys is None:
        conn.execute(rollup_participants.insert().from_select(columns, query))
        return
    for chunk in _slices(keys):
        conn.execute(rollup_participants.delete().where(rollup_participants.c.research_key.in_(chunk)))
        conn.execute(rollup_participants.insert().from_select(columns, query.where(participants.c.id.in_(chunk))))


def _slices(items: list) -> list[list]:
    return [items[i:i + IN_LIST] for i in range(0, len(items), IN_LIST)]


def _recompute_turns(conn, old: int, new: int) -> None:
    dialect = conn.dialect.name
    if old == new:
        return
    if old == 0:  # an empty rollup (a first build): nothing to replace
        _insert_turns(conn, dialect, metrics.c.id <= new)
        return
    day = utc_day(metrics.c.created_at, dialect)
    days = [row[0] for row in conn.execute(sa.select(day).where(metrics.c.id > old, metrics.c.id <= new).distinct())]
    if not days:
        return
    for table in (turn_days, latency_bins):
        conn.execute(table.delete().where(table.c.day.in_(days)))
    # Turns of those days only: from the first one's midnight (an index range), then by day.
    since = conn.execute(sa.select(sa.func.min(metrics.c.created_at)).where(metrics.c.id > old,
                                                                            metrics.c.id <= new)).scalar()
    since = since.replace(hour=0, minute=0, second=0, microsecond=0)
    _insert_turns(conn, dialect, metrics.c.created_at >= since, day.in_(days), metrics.c.id <= new)


def _insert_turns(conn, dialect: str, *where) -> None:
    conn.execute(turn_days.insert().from_select([c.name for c in turn_days.c], turn_rows(dialect, *where)))
    conn.execute(latency_bins.insert().from_select([c.name for c in latency_bins.c],
                                                   latency_rows(dialect, *where)))
