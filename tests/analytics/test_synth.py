"""``flask demo synth``: a realistic synthetic study, written in bulk, consistent with itself."""
from __future__ import annotations

import pandas as pd

from paco.extensions import db
from paco.models import AdherenceRecord, Conversation, Message, ResearchID, TurnMetrics


def _count(model) -> int:
    return db.session.execute(db.select(db.func.count()).select_from(model)).scalar()


def test_synth_writes_a_study_that_behaves_like_one(app, runner):
    result = runner.invoke(args=["demo", "synth", "--participants", "150", "--days", "120", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert "150 participants" in result.output
    assert _count(ResearchID) == 150
    messages = _count(Message)
    assert messages > 1000 and f"{messages} messages" in result.output
    # Every answer has its turn metrics, every question its topic and input.
    assert _count(TurnMetrics) == messages // 2
    assert db.session.execute(db.select(db.func.count()).where(
        Message.role == "user", (Message.topic.is_(None)) | (Message.input.is_(None)))).scalar() == 0
    # Every conversation belongs to someone and has messages.
    orphans = db.session.execute(db.select(db.func.count()).select_from(Conversation).where(
        ~db.select(Message.id).where(Message.conversation_id == Conversation.conversation_id).exists())).scalar()
    assert orphans == 0
    # Engagement decays: more questions in participants' first 30 days than in days 31-60.
    rows = db.session.execute(db.select(Message.created_at, ResearchID.enrolled_at)
                              .join(Conversation, Conversation.conversation_id == Message.conversation_id)
                              .join(ResearchID, ResearchID.research_id == Conversation.research_id)
                              .where(Message.role == "user")).all()
    frame = pd.DataFrame(rows, columns=["at", "enrolled"])
    day = (frame["at"] - frame["enrolled"]).dt.days
    assert (day < 30).sum() > 1.3 * ((day >= 30) & (day < 60)).sum()
    # Adherence goes with engagement: participants above the median of questions adhere better.
    adherence = pd.DataFrame(db.session.execute(db.select(AdherenceRecord.research_id, AdherenceRecord.value)).all(),
                             columns=["research_id", "value"]).groupby("research_id")["value"].mean()
    asked = pd.DataFrame(db.session.execute(
        db.select(Conversation.research_id, db.func.count(Message.id))
        .join(Message, Message.conversation_id == Conversation.conversation_id)
        .group_by(Conversation.research_id)).all(), columns=["research_id", "n"]).set_index("research_id")["n"]
    asked = asked.reindex(adherence.index, fill_value=0)
    high = adherence[asked > asked.median()].mean()
    low = adherence[asked <= asked.median()].mean()
    assert high > low + 0.05


def test_synth_refuses_a_used_seed_and_bad_sizes(app, runner):
    assert runner.invoke(args=["demo", "synth", "--participants", "3", "--days", "10", "--seed", "4"]).exit_code == 0
    again = runner.invoke(args=["demo", "synth", "--participants", "3", "--days", "10", "--seed", "4"])
    assert again.exit_code == 1 and "[synthetic_exists]" in again.output
    bad = runner.invoke(args=["demo", "synth", "--participants", "0", "--days", "10"])
    assert bad.exit_code == 1 and "[invalid_participants]" in bad.output


def test_demo_load_with_study_is_idempotent(app, runner):
    first = runner.invoke(args=["demo", "load", "--with-study"])
    assert first.exit_code == 0 and "60 synthetic participants" in first.output
    second = runner.invoke(args=["demo", "load", "--with-study"])
    assert "nothing to do" in second.output
    assert _count(ResearchID) == 70
