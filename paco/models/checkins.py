"""Daily adherence check-ins: every answer a participant gave, changes included.

Each day's latest answer is also the participant's ``self_report`` adherence record (one scale:
all = 1.0, some = 0.5, none = 0.0; paco.services.checkins); this table keeps the history behind it.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow

CHECKIN_TAKEN = ("all", "some", "none")
# Why doses were missed: the barrier codes shared with adherence_records.barrier.
BARRIERS = ("forgot", "side_effects", "cost", "ran_out", "on_purpose", "other")
CHECKIN_NOTE_MAX_LENGTH = 280


class Checkin(db.Model):
    """One answer to the daily question. Rows are only inserted; ``reply_message_id`` is set once,
    when PaCo's answer to the barrier is stored."""

    __tablename__ = "checkins"
    __table_args__ = (
        CheckConstraint(f"taken IN {CHECKIN_TAKEN}", name="taken"),
        CheckConstraint(f"reason IN {BARRIERS}", name="reason"),
        CheckConstraint("value >= 0 AND value <= 1", name="value_fraction"),
        CheckConstraint("tz_offset_minutes BETWEEN -840 AND 840", name="tz_offset"),
        Index("ix_checkins_research_date", "research_id", "date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    research_id: Mapped[str] = mapped_column(ForeignKey("research_ids.research_id"), nullable=False)
    # The participant's own calendar day (from the page's time-zone offset), not a UTC day.
    date: Mapped[date] = mapped_column(Date, nullable=False)
    taken: Mapped[str] = mapped_column(String(10), nullable=False)
    reason: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, nullable=False, default="", server_default="")
    value: Mapped[float] = mapped_column(Float, nullable=False)
    tz_offset_minutes: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    wording: Mapped[str] = mapped_column(String(20), nullable=False)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow, index=True)
    reply_message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
