"""One cell of an import file into a stored value, or the reason it cannot be one.

Each parser returns ``(value, None)`` or ``(None, reason)``: a file is checked whole and every
problem reported, so nothing here raises. Cells are text from a CSV, or what an XLSX cell holds.
"""
from __future__ import annotations

import math
import re
from datetime import date, datetime, time, timezone

from ...validation import text_problem

NOTES_MAX = 2000
_DECIMAL_COMMA = re.compile(r"^-?\d+,\d+$")


def is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def shown(value) -> str:
    """A cell as a report shows it (short: reports are read by people)."""
    text = "" if value is None else str(value)
    return text if len(text) <= 80 else text[:77] + "..."


def text(value, max_length: int = NOTES_MAX) -> tuple[str | None, str | None]:
    if is_blank(value):
        return "", None
    value = str(value).strip()
    problem = text_problem(value)
    if problem:
        return None, problem
    if len(value) > max_length:
        return None, f"longer than {max_length} characters"
    return value, None


def day(value, today: date) -> tuple[date | None, str | None]:
    """A date: ``YYYY-MM-DD`` (a time after it is ignored) or a spreadsheet date; never after ``today``."""
    if isinstance(value, datetime):
        parsed = value.date()
    elif isinstance(value, date):
        parsed = value
    else:
        raw = str(value).strip()
        try:
            parsed = date.fromisoformat(raw[:10]) if len(raw) >= 10 and raw[4] == "-" else None
        except ValueError:
            parsed = None
        if parsed is None:
            return None, ("not a date: write dates as YYYY-MM-DD (2026-03-04), "
                          "since 03/04/2026 can be read as March or April")
    if parsed > today:
        return None, f"in the future (after {today.isoformat()})"
    return parsed, None


def moment(value, now: datetime) -> tuple[datetime | None, str | None]:
    """A time stamp: ``YYYY-MM-DD`` (midnight), ISO date and time, or a spreadsheet date; a time
    without a zone is UTC. Never in the future."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime.combine(value, time())
    else:
        raw = str(value).strip().replace("Z", "+00:00")
        try:
            parsed = datetime.fromisoformat(raw)
        except ValueError:
            return None, "not a date: write YYYY-MM-DD or YYYY-MM-DDTHH:MM (UTC unless a zone is given)"
    parsed = parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed.astimezone(timezone.utc)
    if parsed > now:
        return None, "in the future"
    return parsed, None


def number(value) -> tuple[float | None, bool, str | None]:
    """A number, and whether it carried a ``%`` sign; a decimal comma (``0,85``) is read as a point."""
    if isinstance(value, bool):
        return None, False, "not a number"
    if isinstance(value, (int, float)):
        parsed, percent_sign = float(value), False
    else:
        raw = str(value).strip()
        percent_sign = raw.endswith("%")
        raw = raw.rstrip("%").strip()
        if _DECIMAL_COMMA.match(raw):
            raw = raw.replace(",", ".")
        try:
            parsed = float(raw)
        except ValueError:
            return None, False, "not a number"
    if not math.isfinite(parsed):
        return None, False, "not a number"
    return parsed, percent_sign, None
