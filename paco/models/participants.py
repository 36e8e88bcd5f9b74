"""Cohorts (study arms) and the research IDs enrolled in them."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, Text, false
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, utcnow

PARTICIPANT_STATUSES = ("active", "paused", "withdrawn")
RESEARCH_ID_MAX_LENGTH = 50


class Cohort(db.Model):
    """A study arm: which assistant and voice its participants get."""

    __tablename__ = "cohorts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # Arm settings; NULL means "use the server's configured default".
    llm_provider: Mapped[str | None] = mapped_column(String(40))
    llm_model: Mapped[str | None] = mapped_column(String(100))
    prompt_version: Mapped[str | None] = mapped_column(String(40))
    tts_enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    tts_voice: Mapped[str | None] = mapped_column(String(100))
    # Daily caps per research ID (0 = unlimited): what PaCo pays for, per token and per character.
    daily_llm_tokens: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    daily_tts_chars: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    # The daily adherence check-in (paco.services.checkins): on or off, the weekdays it asks on
    # (ISO digits, 1 = Monday ... 7 = Sunday) and the version of the question's wording. Cohorts
    # that existed before migration 0010 keep it off until the study turns it on.
    checkin_enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True, server_default=false())
    checkin_weekdays: Mapped[str] = mapped_column(String(7), nullable=False, default="1234567",
                                                  server_default="1234567")
    checkin_wording: Mapped[str] = mapped_column(String(20), nullable=False, default="v1", server_default="v1")
    # Whom a participant whose access is paused should contact; shown only to someone who proves
    # they hold the research ID (paco.services.participants).
    contact_text: Mapped[str] = mapped_column(Text, nullable=False, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    research_ids: Mapped[list[ResearchID]] = relationship(back_populates="cohort")

    def __str__(self):
        return self.name


class ResearchID(db.Model):
    """A participant, known to PaCo only by the research ID the study gave them.

    ``status`` is the one source of truth for access; the seed's ``is_active`` is derived from it.
    """

    __tablename__ = "research_ids"
    __table_args__ = (
        CheckConstraint(f"status IN {PARTICIPANT_STATUSES}", name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    research_id: Mapped[str] = mapped_column(String(RESEARCH_ID_MAX_LENGTH), unique=True, nullable=False)
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohorts.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="active")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notes: Mapped[str] = mapped_column(Text, nullable=False, default="", server_default="")
    # The import (paco.services.imports) that created this row; NULL when added by hand.
    import_batch: Mapped[str | None] = mapped_column(String(64), index=True)

    cohort: Mapped[Cohort | None] = relationship(back_populates="research_ids")

    @hybrid_property
    def is_active(self) -> bool:
        return self.status == "active"

    @is_active.inplace.expression
    @classmethod
    def _is_active_expression(cls):
        return cls.status == "active"

    def __str__(self):
        return self.research_id
