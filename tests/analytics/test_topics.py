"""Topic tags: one per question, from readable rules, set when stored and by the backfill command."""
from __future__ import annotations

import pytest

from paco.extensions import db
from paco.models import Conversation, Message, ResearchID
from paco.services.conversations import save_message
from paco.services.topics import TOPICS, topic_of


@pytest.mark.parametrize("text, topic", [
    ("Is muscle pain a side effect of my statin?", "side_effects"),  # side effects before medicines
    ("What if I forget to take my pills?", "medications"),
    ("How do I quit smoking?", "smoking"),
    ("Should I eat less salt?", "diet"),
    ("How far should I walk each day?", "walking_exercise"),
    ("My toes feel numb", "symptoms"),
    ("Hello PaCo", "other"),
])
def test_rules(text, topic):
    assert topic_of(text) == topic and topic in TOPICS


def _conversation():
    db.session.add(ResearchID(research_id="RID001", status="active"))
    db.session.commit()
    db.session.add(Conversation(research_id="RID001", conversation_id="c1"))
    db.session.commit()


def test_questions_are_tagged_when_stored_and_answers_are_not(app):
    _conversation()
    question = save_message("c1", "user", "Can I drink alcohol?", input="voice")
    answer = save_message("c1", "assistant", "Walking helps. Take your pills.")
    stored = {m.id: (m.topic, m.input) for m in db.session.execute(db.select(Message)).scalars()}
    assert stored == {question: ("diet", "voice"), answer: (None, None)}


def test_backfill_tags_untagged_questions(app, runner):
    _conversation()
    save_message("c1", "user", "How do I quit smoking?", topic=None)  # as stored before the tags existed
    save_message("c1", "user", "My legs cramp", topic="other")        # a tag from an older rule
    result = runner.invoke(args=["analytics", "backfill-topics"])
    assert result.exit_code == 0 and "Tagged 1 question." in result.output
    assert db.session.execute(db.select(Message.topic).order_by(Message.id)).scalars().all() == ["smoking", "other"]
    result = runner.invoke(args=["analytics", "backfill-topics", "--all"])
    assert "Tagged 2 questions." in result.output
    db.session.expire_all()
    assert db.session.execute(db.select(Message.topic).order_by(Message.id)).scalars().all() == ["smoking", "symptoms"]
