"""What every dashboard is filtered by: cohorts, a date range, participant statuses.

``Filters.from_args`` reads a URL's query (so that a bookmarked dashboard keeps its filters) and
``to_args`` writes it back; the same filters drive the dataset exports.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone

from paco.errors import InvalidInput
from paco.models import PARTICIPANT_STATUSES
from paco.validation import is_digits

DEFAULT_DAYS = 90
DEFAULT_MIN_CELL = 5


@dataclass(frozen=True)
class Filters:
    cohorts: tuple[int, ...] = ()            # empty: every cohort
    start: date | None = None                # inclusive; None: DEFAULT_DAYS before ``end``
    end: date | None = None                  # inclusive; None: today (UTC)
    statuses: tuple[str, ...] = ()           # empty: every status
    min_cell: int = DEFAULT_MIN_CELL         # counts below this (and above 0) are shown as "<min_cell"
    stale_days: int = 14                     # the adherence worklist: no data for this many days

    @property
    def last_day(self) -> date:
        return self.end or datetime.now(timezone.utc).date()

    @property
    def first_day(self) -> date:
        return self.start or self.last_day - timedelta(days=DEFAULT_DAYS - 1)

    @property
    def since(self) -> datetime:
        return datetime.combine(self.first_day, time.min, timezone.utc)

    @property
    def until(self) -> datetime:
        """Exclusive upper bound: midnight after the last day."""
        return datetime.combine(self.last_day + timedelta(days=1), time.min, timezone.utc)

    def with_(self, **changes) -> Filters:
        return replace(self, **changes)

    @classmethod
    def from_args(cls, args, min_cell: int = DEFAULT_MIN_CELL) -> Filters:
        """From a query mapping with ``getlist`` (a request's args) or plain lists."""
        def many(name):
            values = args.getlist(name) if hasattr(args, "getlist") else args.get(name) or []
            return [v for v in ([values] if isinstance(values, str) else values) if v not in ("", None)]

        try:
            cohorts = tuple(sorted({int(v) for v in many("cohort")}))
        except ValueError:
            raise InvalidInput("invalid_filter", "A cohort filter is not a cohort id.") from None
        statuses = tuple(sorted(set(many("status"))))
        unknown = set(statuses) - set(PARTICIPANT_STATUSES)
        if unknown:
            raise InvalidInput("invalid_filter", f"Unknown participant status: {', '.join(sorted(unknown))}.")
        start, end = (_day(args.get(name), name) for name in ("from", "to"))
        if start and end and start > end:
            raise InvalidInput("invalid_filter", "The date range ends before it starts.")
        stale = args.get("stale_days") or "14"
        if not is_digits(str(stale)) or not 1 <= int(stale) <= 365:
            raise InvalidInput("invalid_filter", "Days without adherence data must be between 1 and 365.")
        return cls(cohorts=cohorts, start=start, end=end, statuses=statuses, min_cell=min_cell,
                   stale_days=int(stale))

    def to_args(self) -> dict:
        args: dict = {}
        if self.cohorts:
            args["cohort"] = list(self.cohorts)
        if self.statuses:
            args["status"] = list(self.statuses)
        if self.start:
            args["from"] = self.start.isoformat()
        if self.end:
            args["to"] = self.end.isoformat()
        if self.stale_days != 14:
            args["stale_days"] = self.stale_days
        return args

    def describe(self) -> dict:
        """What an export's manifest and audit event record."""
        return {"cohorts": list(self.cohorts), "statuses": list(self.statuses),
                "from": self.start.isoformat() if self.start else None,
                "to": self.end.isoformat() if self.end else None}


def _day(raw, name: str) -> date | None:
    if raw in (None, ""):
        return None
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        raise InvalidInput("invalid_filter", f"'{name}' must be a date like 2026-01-31.") from None
