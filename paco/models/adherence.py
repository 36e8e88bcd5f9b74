"""Adherence measurements imported by data managers."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow

ADHERENCE_MEASURES = ("self_report", "pill_count", "refill_pdc", "mems")


class AdherenceRecord(db.Model):
    __tablename__ = "adherence_records"
    __table_args__ = (
        CheckConstraint(f"measure IN {ADHERENCE_MEASURES}", name="measure"),
        UniqueConstraint("research_id", "date", "measure", "source", name="uq_adherence_records_point"),
        Index("ix_adherence_records_research_date", "research_id", "date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    research_id: Mapped[str] = mapped_column(ForeignKey("research_ids.research_id"), nullable=False)
    date: Mapped[date] = mapped_column(Date, nullable=False)
    measure: Mapped[str] = mapped_column(String(20), nullable=False)
    value: Mapped[float] = mapped_column(Float, nullable=False)
    source: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    import_batch: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
