"""Daily caps of LLM tokens and speech characters per research ID, set per cohort (0 = unlimited).

Usage is counted from what the turns themselves stored (``turn_metrics``), per UTC day: no second
counter to drift from the record. Past the LLM cap, answers come from the curated knowledge base;
past the speech cap, answers are shown but not spoken. Either way the participant is told when the
cap resets.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from ..extensions import db
from ..models import Conversation, Message, TurnMetrics, utcnow

# Providers whose tokens cost nothing: the offline knowledge base and the fixed safety replies.
FREE_PROVIDERS = ("curated", "safety")


@dataclass(frozen=True)
class Usage:
    llm_tokens: int
    tts_chars: int


@dataclass(frozen=True)
class QuotaState:
    llm_reached: bool
    tts_reached: bool
    resets_at: datetime

    @property
    def any(self) -> bool:
        return self.llm_reached or self.tts_reached


def day_start(now: datetime) -> datetime:
    return now.astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)


def usage_today(research_id: str, now: datetime | None = None) -> Usage:
    since = day_start(now or utcnow())
    costed = Message.provider.not_in(FREE_PROVIDERS)
    row = db.session.execute(
        db.select(
            db.func.coalesce(db.func.sum(db.case((costed, TurnMetrics.response_tokens), else_=0)), 0),
            db.func.coalesce(db.func.sum(db.case((TurnMetrics.tts_ms.is_not(None), TurnMetrics.response_chars),
                                                 else_=0)), 0),
        )
        .select_from(TurnMetrics)
        .join(Message, Message.id == TurnMetrics.message_id)
        .join(Conversation, Conversation.conversation_id == Message.conversation_id)
        .where(Conversation.research_id == research_id, Message.created_at >= since)
    ).one()
    return Usage(int(row[0]), int(row[1]))


def quota_state(research_id: str, daily_llm_tokens: int, daily_tts_chars: int,
                now: datetime | None = None) -> QuotaState | None:
    """Which caps this participant has reached today, or None when the arm sets no cap."""
    if not daily_llm_tokens and not daily_tts_chars:
        return None
    now = now or utcnow()
    usage = usage_today(research_id, now)
    return QuotaState(llm_reached=bool(daily_llm_tokens) and usage.llm_tokens >= daily_llm_tokens,
                      tts_reached=bool(daily_tts_chars) and usage.tts_chars >= daily_tts_chars,
                      resets_at=day_start(now) + timedelta(days=1))


def quota_message(state: QuotaState, now: datetime | None = None) -> str:
    hours = max(1, round((state.resets_at - (now or utcnow())).total_seconds() / 3600))
    when = f"in about {hours} hour{'s' if hours != 1 else ''} (midnight UTC)"
    if state.llm_reached and state.tts_reached:
        what = "PaCo will answer from its library of checked answers, in writing only"
    elif state.llm_reached:
        what = "PaCo will answer from its library of checked answers"
    else:
        what = "PaCo will write its answers but not read them aloud"
    return f"You have used today's share of PaCo. Until it resets {when}, {what}."
