"""Importing research IDs into a cohort: the rows' rules, the whole-file checks, the writes."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, String, Text, cast, exists, func, insert, literal, select, update

from ...errors import InvalidInput, NotFound
from ...extensions import db
from ...models import PARTICIPANT_STATUSES, Cohort, ResearchID, utcnow
from ...models.participants import RESEARCH_ID_MAX_LENGTH
from ...models.types import UTCDateTime
from .. import events
from . import cells
from .runner import Columns, Spec

COLUMNS = Columns(
    required={"research_id": ("record_id", "study_id", "participant_id", "subject_id", "researchid")},
    optional={"status": ("participant_status",),
              "enrolled_at": ("enrolled", "enrollment_date", "enrolment_date", "enrolled_on", "consent_date"),
              "notes": ("note", "comments", "comment")},
)
COHORT_NAME_MAX = 100


def find_cohort(name: str) -> Cohort | None:
    return db.session.execute(db.select(Cohort).where(Cohort.name == name.strip())).scalar_one_or_none()


def cohort_named(name: str, create: bool = False) -> Cohort | None:
    """The cohort called ``name``; None when it does not exist yet and ``create`` says to make it."""
    name = (name or "").strip()
    if not name or len(name) > COHORT_NAME_MAX:
        raise InvalidInput("invalid_cohort", f"A cohort name is 1-{COHORT_NAME_MAX} characters.")
    cohort = find_cohort(name)
    if cohort is None and not create:
        names = db.session.execute(db.select(Cohort.name).order_by(Cohort.name)).scalars().all()
        raise NotFound("unknown_cohort", f"There is no cohort named {name!r} (cohorts: "
                       f"{', '.join(names) or 'none yet'}); add --create-cohort to create it.")
    return cohort


class ResearchIDSpec(Spec):
    noun = "research IDs"
    kind = "research_ids"
    columns = COLUMNS
    key = ["research_id"]

    def __init__(self, cohort_name: str, create_cohort: bool = False):
        self.cohort_name = cohort_name.strip()
        cohort = cohort_named(cohort_name, create_cohort)
        self.cohort_id = cohort.id if cohort is not None else None
        self.now = utcnow()
        self.withdrawn: list[str] = []

    def staging_columns(self):
        return [Column("research_id", String(RESEARCH_ID_MAX_LENGTH)), Column("status", String(20)),
                Column("enrolled_at", UTCDateTime), Column("notes", Text)]

    def parse(self, row: dict, problem):
        research_id = self.research_id(row, problem)
        status = None
        if not cells.is_blank(row.get("status")):
            status = str(row["status"]).strip().lower()
            if status not in PARTICIPANT_STATUSES:
                problem("status", row["status"], f"not a status: use {', '.join(PARTICIPANT_STATUSES)}",
                        "invalid_status")
        enrolled_at = None
        if not cells.is_blank(row.get("enrolled_at")):
            enrolled_at, reason = cells.moment(row["enrolled_at"], self.now)
            if reason:
                problem("enrolled_at", row["enrolled_at"], reason, "invalid_date")
        notes = self.notes(row, problem)
        # A row with other problems is staged all the same (bad cells as NULL), so that the
        # whole-file checks report its research ID's problems too; nothing is written after a problem.
        return None if research_id is None else (research_id, status, enrolled_at, notes)

    def check(self, staging, log):
        c = staging.c
        first = (select(c.research_id, func.min(c.line).label("first")).group_by(c.research_id)
                 .having(func.count() > 1).subquery())
        log.add_from(select(c.line, literal("research_id"), c.research_id,
                            literal("duplicate in the file: also on line ") + cast(first.c.first, String),
                            literal("duplicate_in_file"))
                     .join(first, first.c.research_id == c.research_id).where(c.line > first.c.first))
        where = func.coalesce(literal("cohort ") + Cohort.name, literal("no cohort"))
        log.add_from(select(c.line, literal("research_id"), c.research_id,
                            literal("already in PaCo, in ") + where + literal(": change cohorts with flask ids move"),
                            literal("in_another_cohort"))
                     .join(ResearchID, ResearchID.research_id == c.research_id)
                     .outerjoin(Cohort, Cohort.id == ResearchID.cohort_id)
                     .where(ResearchID.cohort_id.is_distinct_from(self.cohort_id)))

    table = ResearchID.__table__

    def match(self, c):
        return self.table.c.research_id == c.research_id

    def changed(self, c):
        r = self.table.c
        return (((c.status.is_not(None)) & (c.status != r.status))
                | ((c.enrolled_at.is_not(None)) & (r.enrolled_at.is_distinct_from(c.enrolled_at)))
                | ((c.notes.is_not(None)) & (c.notes != r.notes)))

    def write(self, staging, batch_id: str, now: datetime):
        if self.cohort_id is None:
            cohort = Cohort(name=self.cohort_name, description="Created by an import.")
            db.session.add(cohort)
            db.session.flush()
            self.cohort_id = cohort.id
        c, rt = staging.c, ResearchID.__table__
        r = rt.c
        at = literal(now, UTCDateTime)
        new = select(c.research_id, literal(self.cohort_id), func.coalesce(c.status, "active"), at,
                     func.coalesce(c.enrolled_at, at), at, func.coalesce(c.notes, ""), literal(batch_id)
                     ).where(~exists().where(r.research_id == c.research_id))
        conn = staging.conn
        conn.execute(insert(rt).from_select(
            ["research_id", "cohort_id", "status", "created_at", "enrolled_at", "status_changed_at", "notes",
             "import_batch"], new))
        changed = select(c.research_id).join(rt, r.research_id == c.research_id).where(self.changed(c))
        self.withdrawn = list(conn.execute(
            select(c.research_id).join(rt, r.research_id == c.research_id)
            .where(c.status.is_not(None), c.status != r.status, c.status != "active")).scalars())

        def incoming(column):
            return select(column).where(c.research_id == r.research_id).scalar_subquery()

        conn.execute(update(rt).where(r.research_id.in_(changed)).values(
            status=func.coalesce(incoming(c.status), r.status),
            status_changed_at=db.case((incoming(c.status).is_not(None) & (incoming(c.status) != r.status), at),
                                      else_=r.status_changed_at),
            enrolled_at=func.coalesce(incoming(c.enrolled_at), r.enrolled_at),
            notes=func.coalesce(incoming(c.notes), r.notes),
        ))

    def target(self):
        return f"cohort {self.cohort_name}"

    def audit_detail(self):
        return {"cohort": self.cohort_name, "cohort_id": self.cohort_id}

    def after_commit(self):
        # Paused and withdrawn IDs lose their open chats at once, as with the admin's bulk actions.
        for research_id in self.withdrawn:
            events.access_changed.send(research_id)
