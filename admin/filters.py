"""List filters the generic ones do not cover: UTC timestamps, disclaimer state, safety flags."""
from __future__ import annotations

from datetime import datetime, timezone

from flask_admin.contrib.sqla.filters import BaseSQLAFilter, FilterConverter, FilterEqual
from flask_admin.model import filters

from paco.extensions import db
from paco.models import Cohort, Conversation, Message, ResearchID
from paco.services import enrolment
from paco.validation import normalise_research_id


def _as_utc(value):
    if isinstance(value, list):
        return [_as_utc(v) for v in value]
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


def _utc_variant(filter_class):
    """The same filter, reading typed times as UTC (the columns refuse naive times)."""

    class UTCFilter(filter_class):
        def clean(self, value):
            return _as_utc(super().clean(value))

    UTCFilter.__name__ = f"UTC{filter_class.__name__}"
    return UTCFilter


class StudyFilterConverter(FilterConverter):
    """Knows paco's UTCDateTime column type (a TypeDecorator the stock converter skips)."""

    @filters.convert("UTCDateTime")
    def conv_utc_datetime(self, column, name, **kwargs):
        return [_utc_variant(f)(column, f"{name} (UTC)", **kwargs) for f in self.datetime_filters]


class LazyOptions:
    """Filter choices read from the database each time the filter menu is drawn.

    Flask-Admin evaluates callable options once, when the view is built; an iterable is read
    at render time instead, so new cohorts appear without a restart.
    """

    def __init__(self, query):
        self.query = query

    def __bool__(self):
        return True

    def __iter__(self):
        return iter([(value, value) for value in db.session.execute(self.query).scalars()])


def cohort_filter() -> FilterEqual:
    return FilterEqual(column="cohort.name", name="Cohort",
                       options=LazyOptions(db.select(Cohort.name).order_by(Cohort.name)))


class DisclaimerStateFilter(BaseSQLAFilter):
    """Whether the research ID has acknowledged the current disclaimer version."""

    def __init__(self):
        super().__init__(ResearchID.research_id, "Current disclaimer",
                         options=(("pending", "not acknowledged"), ("acknowledged", "acknowledged")))

    def apply(self, query, value, alias=None):
        pending = enrolment.pending_acknowledgment_filter()
        return query.filter(pending if value == "pending" else ~pending)

    def operation(self):
        return "is"


class MessageResearchIDFilter(BaseSQLAFilter):
    """Messages of one research ID (messages know their conversation, not the participant)."""

    def __init__(self):
        super().__init__(Message.conversation_id, "Research ID")

    def apply(self, query, value, alias=None):
        owned = db.select(Conversation.conversation_id).where(
            Conversation.research_id == normalise_research_id(value))
        return query.filter(Message.conversation_id.in_(owned))

    def operation(self):
        return "equals"


class SafetyFlagFilter(BaseSQLAFilter):
    def __init__(self):
        super().__init__(Message.safety_category, "Safety flag", options=(("yes", "yes"), ("no", "no")))

    def apply(self, query, value, alias=None):
        flagged = Message.safety_category.is_not(None)
        return query.filter(flagged if value == "yes" else ~flagged)

    def operation(self):
        return "raised"
