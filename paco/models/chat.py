"""Conversations, their messages and the per-turn latency metrics."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, utcnow

MESSAGE_ROLES = ("user", "assistant")
MESSAGE_STATUSES = ("complete", "interrupted", "failed")
# How the participant entered a question (the chat frame's optional "input"); NULL when not said.
# "checkin": the participant's answer to the daily check-in card, stored so the conversation
# reads as it happened (never counted as a question by the dashboards).
MESSAGE_INPUTS = ("voice", "text", "checkin")
CONVERSATION_ID_MAX_LENGTH = 100


class Conversation(db.Model):
    __tablename__ = "conversations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    research_id: Mapped[str] = mapped_column(ForeignKey("research_ids.research_id"), nullable=False, index=True)
    conversation_id: Mapped[str] = mapped_column(String(CONVERSATION_ID_MAX_LENGTH), unique=True, nullable=False)
    # indexed for the conversations dashboard's latest conversations (migration 0012)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)

    def __str__(self):
        return self.conversation_id


class Message(db.Model):
    """One message. Assistant rows record what produced them and how the turn ended."""

    __tablename__ = "messages"
    __table_args__ = (
        CheckConstraint(f"role IN {MESSAGE_ROLES}", name="role"),
        CheckConstraint(f"status IN {MESSAGE_STATUSES}", name="status"),
        CheckConstraint(f"input IN {MESSAGE_INPUTS}", name="input"),
        Index("ix_messages_conversation_created", "conversation_id", "created_at"),
        # The dashboards count messages per day and role (migration 0007_analytics)
        Index("ix_messages_created_role", "created_at", "role"),
        # The conversations dashboard's escalations: the flagged few, by date (migration 0012)
        Index("ix_messages_flagged_created", "created_at", sqlite_where=text("safety_category IS NOT NULL"),
              postgresql_where=text("safety_category IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.conversation_id"), nullable=False)
    role: Mapped[str] = mapped_column(String(20), nullable=False)
    content: Mapped[str] = mapped_column(Text, nullable=False)
    audio_url: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="complete")
    provider: Mapped[str | None] = mapped_column(String(40))
    model: Mapped[str | None] = mapped_column(String(100))
    prompt_version: Mapped[str | None] = mapped_column(String(40))
    safety_category: Mapped[str | None] = mapped_column(String(40), index=True)
    safety_rule: Mapped[str | None] = mapped_column(String(100))
    # "rules" (the screen before any model) or "classifier" (the LLM's second opinion, which
    # caught what the rules missed: investigators read these to improve the rules)
    safety_layer: Mapped[str | None] = mapped_column(String(20), index=True)
    # Questions only: the topic rule that matched (paco.services.topics), set when stored.
    topic: Mapped[str | None] = mapped_column(String(20))
    input: Mapped[str | None] = mapped_column(String(10))

    metrics: Mapped[TurnMetrics | None] = relationship(back_populates="message", uselist=False)


class TurnMetrics(db.Model):
    """Timings of one assistant turn, in milliseconds from the moment the user message arrived."""

    __tablename__ = "turn_metrics"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), unique=True, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow, index=True)
    first_token_ms: Mapped[float | None] = mapped_column(Float)
    first_sentence_ms: Mapped[float | None] = mapped_column(Float)
    first_audio_ms: Mapped[float | None] = mapped_column(Float)
    total_ms: Mapped[float | None] = mapped_column(Float)
    tts_ms: Mapped[float | None] = mapped_column(Float)
    response_chars: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    response_tokens: Mapped[int | None] = mapped_column(Integer)
    # Flesch-Kincaid grade of an LLM's answer (entries and safety replies are reviewed already)
    reply_grade: Mapped[float | None] = mapped_column(Float)
    sentences: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    audio_cache_hits: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    provider_errors: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    tts_errors: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    error_detail: Mapped[str | None] = mapped_column(Text)

    message: Mapped[Message] = relationship(back_populates="metrics")


class TurnLease(db.Model):
    """A chat turn in progress: its question is stored, its answer not yet (paco.services.turn_leases).

    Written in the question's transaction and deleted in the answer's, so a row outlives its turn
    only when the worker running it died. That worker renews ``expires_at`` every few seconds and
    copies the answer's text so far into ``partial``; once ``expires_at`` has passed, any instance
    closes the turn with an answer row made of ``partial`` (``interrupted``, or ``failed`` when empty).
    """

    __tablename__ = "turn_leases"

    question_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.conversation_id"), nullable=False,
                                                 index=True)
    # host:pid:random of the worker running the turn
    holder: Mapped[str] = mapped_column(String(100), nullable=False, index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    partial: Mapped[str] = mapped_column(Text, nullable=False, default="")
    provider: Mapped[str | None] = mapped_column(String(40))
    model: Mapped[str | None] = mapped_column(String(100))
    prompt_version: Mapped[str | None] = mapped_column(String(40))
