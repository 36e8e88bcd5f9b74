"""Adherence records: the rules every record meets, however it arrives (admin form, import).

One scale for every measure: the fraction of doses taken (refill PDC likewise), 0 to 1. A value
in percent is converted only where the file says so (``flask adherence import --scale percent``);
stored as it came, 85 beside 0.85 would corrupt every average.
"""
from __future__ import annotations

import math

from ..errors import InvalidInput, NotFound
from ..extensions import db
from ..models import ADHERENCE_MEASURES, BARRIERS, AdherenceRecord, ResearchID
from .enrolment import clean_research_id

FRACTION_HINT = "Values are a fraction of doses taken, from 0 to 1 (85 % is 0.85)."


def value_problem(value) -> str | None:
    """Why a value is not on the stored scale (a number from 0 to 1), or None."""
    # NaN compares false with everything, so range checks alone would let it through.
    if value is None or not math.isfinite(value):
        return "The value must be a number from 0 to 1."
    if value < 0 or value > 1:
        return f"{value:g} is outside 0-1. {FRACTION_HINT}"
    return None


def check_record(record: AdherenceRecord) -> None:
    """Normalise the record in place, or raise the rule it breaks."""
    record.research_id = clean_research_id(record.research_id)
    known = db.session.execute(
        db.select(ResearchID.id).where(ResearchID.research_id == record.research_id)).first()
    if not known:
        raise NotFound("unknown_research_id", f"Research ID {record.research_id} does not exist.")
    if record.measure not in ADHERENCE_MEASURES:
        raise InvalidInput("invalid_measure", f"The measure must be one of: {', '.join(ADHERENCE_MEASURES)}.")
    problem = value_problem(record.value)
    if problem:
        raise InvalidInput("invalid_value", problem)
    record.barrier = record.barrier or None
    if record.barrier is not None and record.barrier not in BARRIERS:
        raise InvalidInput("invalid_value", f"The barrier must be one of: {', '.join(BARRIERS)} (or empty).")
    record.source = (record.source or "").strip()
    record.medication = (record.medication or "").strip()
    record.notes = record.notes or ""
