"""Adherence records: the rules every record meets, however it arrives (admin form, import)."""
from __future__ import annotations

import math

from ..errors import InvalidInput, NotFound
from ..extensions import db
from ..models import ADHERENCE_MEASURES, AdherenceRecord, ResearchID
from .enrolment import clean_research_id


def check_record(record: AdherenceRecord) -> None:
    """Normalise the record in place, or raise the rule it breaks."""
    record.research_id = clean_research_id(record.research_id)
    known = db.session.execute(
        db.select(ResearchID.id).where(ResearchID.research_id == record.research_id)).first()
    if not known:
        raise NotFound("unknown_research_id", f"Research ID {record.research_id} does not exist.")
    if record.measure not in ADHERENCE_MEASURES:
        raise InvalidInput("invalid_measure", f"The measure must be one of: {', '.join(ADHERENCE_MEASURES)}.")
    # NaN compares false with everything, so "< 0" alone would let it through.
    if record.value is None or not math.isfinite(record.value) or record.value < 0:
        raise InvalidInput("invalid_value", "The value must be a number, zero or more.")
    record.source = (record.source or "").strip()
