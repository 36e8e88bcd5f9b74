"""Importing adherence measures: one measure and source per file, values on one scale (0-1).

A file says its scale: ``fraction`` (0-1, the stored scale) or ``percent`` (0-100, divided by
100). A value that does not fit the declared scale is a problem, and so is a "percent" file whose
values all lie between 0 and 1: stored as they came, 85 beside 0.85 would corrupt every average.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Date, Float, String, Text, and_, cast, exists, func, insert, literal, select, update

from ...errors import InvalidInput
from ...models import ADHERENCE_MEASURES, AdherenceRecord, ResearchID, utcnow
from ...models.adherence import MEDICATION_MAX_LENGTH
from ...models.participants import RESEARCH_ID_MAX_LENGTH
from ...models.types import UTCDateTime
from ...validation import text_problem
from ..adherence import FRACTION_HINT
from . import cells
from .runner import Columns, Problem, Spec

SCALES = ("fraction", "percent")
SOURCE_MAX = 100
COLUMNS = Columns(
    required={"research_id": ("record_id", "study_id", "participant_id", "subject_id", "researchid"),
              "date": ("measured_on", "measure_date", "day", "visit_date", "record_date"),
              "value": ("adherence", "pdc", "score", "proportion")},
    optional={"medication": ("drug", "medicine", "med"), "notes": ("note", "comments", "comment")},
)


class AdherenceSpec(Spec):
    noun = "adherence records"
    kind = "adherence"
    columns = COLUMNS
    key = ["research_id", "date", "medication"]

    def __init__(self, measure: str, source: str = "", scale: str = "fraction"):
        if measure not in ADHERENCE_MEASURES:
            raise InvalidInput("invalid_measure", f"The measure must be one of: {', '.join(ADHERENCE_MEASURES)}.")
        if scale not in SCALES:
            raise InvalidInput("invalid_scale", f"The scale must be one of: {', '.join(SCALES)}.")
        source = (source or "").strip()
        if len(source) > SOURCE_MAX or text_problem(source):
            raise InvalidInput("invalid_source", f"The source is a name of up to {SOURCE_MAX} characters.")
        self.measure, self.source, self.scale = measure, source, scale
        self.today = utcnow().date()
        self.largest = None  # the largest value read, before conversion: tells a percent file from a fraction one

    def staging_columns(self):
        return [Column("research_id", String(RESEARCH_ID_MAX_LENGTH)), Column("date", Date),
                Column("value", Float), Column("medication", String(MEDICATION_MAX_LENGTH)),
                Column("notes", Text)]

    def parse(self, row: dict, problem):
        research_id = self.research_id(row, problem)
        day = None
        if cells.is_blank(row["date"]):
            problem("date", "", "the date is missing", "missing_value")
        else:
            day, reason = cells.day(row["date"], self.today)
            if reason:
                problem("date", row["date"], reason, "invalid_date")
        value = self._value(row["value"], problem)
        medication, reason = cells.text(row.get("medication"), MEDICATION_MAX_LENGTH)
        if reason:
            problem("medication", row["medication"], reason, "invalid_text")
        notes = self.notes(row, problem)
        # A row with other problems is staged all the same (bad cells as NULL), so that the
        # whole-file checks report its research ID's problems too; nothing is written after a problem.
        return None if research_id is None else (research_id, day, value, medication, notes)

    def _value(self, raw, problem) -> float | None:
        if cells.is_blank(raw):
            problem("value", "", "the value is missing", "missing_value")
            return None
        value, percent_sign, reason = cells.number(raw)
        if reason:
            problem("value", raw, reason, "invalid_value")
            return None
        self.largest = value if self.largest is None else max(self.largest, value)
        if self.scale == "fraction":
            if percent_sign:
                problem("value", raw, "has a % sign: the file is in percent; import it with --scale percent",
                        "wrong_scale")
                return None
            if not 0 <= value <= 1:
                problem("value", raw, f"outside 0-1, the declared scale (fraction). {FRACTION_HINT} "
                        "If the file is in percent, import it with --scale percent", "wrong_scale")
                return None
            return value
        if not 0 <= value <= 100:
            problem("value", raw, "outside 0-100, the declared scale (percent)", "wrong_scale")
            return None
        return round(value / 100, 6)

    def after_rows(self, log, rows):
        if self.scale == "percent" and rows and self.largest is not None and self.largest <= 1:
            p = Problem(None, "value", "", "--scale percent, but every value is between 0 and 1: "
                        "these look like fractions; import the file with --scale fraction", "wrong_scale")
            log.add(p.line, p.column, p.value, p.reason, p.code)

    def check(self, staging, log):
        c = staging.c
        first = (select(c.research_id, c.date, c.medication, func.min(c.line).label("first"))
                 .group_by(c.research_id, c.date, c.medication).having(func.count() > 1).subquery())
        log.add_from(select(c.line, literal("research_id"), c.research_id,
                            literal("duplicate in the file (same research ID, date and medication): "
                                    "also on line ") + cast(first.c.first, String),
                            literal("duplicate_in_file"))
                     .join(first, and_(first.c.research_id == c.research_id, first.c.date == c.date,
                                       first.c.medication == c.medication))
                     .where(c.line > first.c.first, c.date.is_not(None)))
        r = ResearchID.__table__.c
        log.add_from(select(c.line, literal("research_id"), c.research_id,
                            literal("unknown research ID: import it first with flask ids import"),
                            literal("unknown_research_id"))
                     .where(~exists().where(r.research_id == c.research_id)))

    table = AdherenceRecord.__table__

    def match(self, c):
        a = self.table.c
        return and_(a.research_id == c.research_id, a.date == c.date, a.measure == self.measure,
                    a.source == self.source, a.medication == c.medication)

    def changed(self, c):
        a = self.table.c
        return (a.value != c.value) | (c.notes.is_not(None) & (c.notes != a.notes))

    def write(self, staging, batch_id: str, now: datetime):
        c, at = staging.c, AdherenceRecord.__table__
        a = at.c
        conn = staging.conn
        new = select(c.research_id, c.date, literal(self.measure), c.value, literal(self.source), c.medication,
                     func.coalesce(c.notes, ""), literal(batch_id), literal(now, UTCDateTime)
                     ).where(~exists().where(self.match(c)))
        conn.execute(insert(at).from_select(
            ["research_id", "date", "measure", "value", "source", "medication", "notes", "import_batch",
             "created_at"], new))

        def incoming(column):
            return select(column).where(self.match(c)).scalar_subquery()

        changed = exists().where(self.match(c), self.changed(c))
        conn.execute(update(at).where(a.measure == self.measure, a.source == self.source, changed).values(
            value=incoming(c.value), notes=func.coalesce(incoming(c.notes), a.notes)))

    def target(self):
        return f"{self.measure} from {self.source}" if self.source else self.measure

    def audit_detail(self):
        return {"measure": self.measure, "source": self.source, "scale": self.scale}
