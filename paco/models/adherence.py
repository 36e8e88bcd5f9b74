"""Adherence measurements (imported by data managers, or reported by participants) and import batches."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .checkins import BARRIERS
from .types import UTCDateTime, utcnow

ADHERENCE_MEASURES = ("self_report", "pill_count", "refill_pdc", "mems")
IMPORT_KINDS = ("research_ids", "adherence")
MEDICATION_MAX_LENGTH = 100


class AdherenceRecord(db.Model):
    __tablename__ = "adherence_records"
    __table_args__ = (
        CheckConstraint(f"measure IN {ADHERENCE_MEASURES}", name="measure"),
        # One documented scale for every measure: a fraction of doses taken (refill PDC likewise).
        CheckConstraint("value >= 0 AND value <= 1", name="value_fraction"),
        CheckConstraint(f"barrier IN {BARRIERS}", name="barrier"),
        UniqueConstraint("research_id", "date", "measure", "source", "medication",
                         name="uq_adherence_records_point"),
        Index("ix_adherence_records_research_date", "research_id", "date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    research_id: Mapped[str] = mapped_column(ForeignKey("research_ids.research_id"), nullable=False)
    date: Mapped[date] = mapped_column(Date, nullable=False)
    measure: Mapped[str] = mapped_column(String(20), nullable=False)
    value: Mapped[float] = mapped_column(Float, nullable=False)
    source: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    # "" when the value covers all of the participant's P.A.D. medicines.
    medication: Mapped[str] = mapped_column(String(MEDICATION_MAX_LENGTH), nullable=False, default="",
                                            server_default="")
    notes: Mapped[str] = mapped_column(Text, nullable=False, default="", server_default="")
    # Why doses were missed, when the participant said (self-reported check-ins); NULL otherwise.
    barrier: Mapped[str | None] = mapped_column(String(20))
    import_batch: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class ImportBatch(db.Model):
    """One import of a file (or one ``flask ids generate``): what every row it wrote is stamped with.

    ``undone_at`` is set when the batch's rows were removed again (``--undo``); the row stays, so
    the history of what was loaded, by whom and from which file, is kept.
    """

    __tablename__ = "import_batches"
    __table_args__ = (CheckConstraint(f"kind IN {IMPORT_KINDS}", name="kind"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    file_name: Mapped[str] = mapped_column(String(255), nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    actor: Mapped[str] = mapped_column(String(254), nullable=False)
    # What was imported into: the cohort for research IDs, the measure (and source) for adherence.
    target: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    created: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    updated: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    skipped: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow, index=True)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    undone_by: Mapped[str | None] = mapped_column(String(254))
