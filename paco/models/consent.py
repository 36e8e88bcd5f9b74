"""Versioned disclaimers and the append-only record of who acknowledged which version."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, utcnow


class Disclaimer(db.Model):
    """One version of the study disclaimer. Draft while ``published_at`` is NULL; frozen after."""

    __tablename__ = "disclaimers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True, nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    content_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    def __str__(self):
        return f"v{self.version}"


class DisclaimerAcknowledgment(db.Model):
    """An acknowledgment of one disclaimer version. Rows are only ever inserted."""

    __tablename__ = "disclaimer_acknowledgments"
    # One acknowledgment per version and participant, even when a page sends it twice at once.
    __table_args__ = (UniqueConstraint("research_id", "disclaimer_id", name="uq_disclaimer_acknowledgments_once"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    research_id: Mapped[str] = mapped_column(ForeignKey("research_ids.research_id"), nullable=False, index=True)
    disclaimer_id: Mapped[int] = mapped_column(ForeignKey("disclaimers.id"), nullable=False, index=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    content_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    acknowledged_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    user_agent: Mapped[str] = mapped_column(String(512), nullable=False, default="")

    disclaimer: Mapped[Disclaimer] = relationship()
