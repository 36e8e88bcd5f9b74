"""Daily caps per research ID, set on the cohort: past the LLM cap the answer comes from the
knowledge base, past the speech cap it is not spoken; the participant is told when the cap resets."""
from __future__ import annotations

from paco.extensions import db
from paco.models import Cohort, Message
from tests.support.chat import types

from .test_ws_turns import stored


def _cap(chat, **caps):
    with chat.app.app_context():
        db.session.execute(db.update(Cohort).values(**caps))
        db.session.commit()
        db.session.remove()


def test_past_the_llm_cap_answers_come_from_the_knowledge_base(chat):
    _cap(chat, daily_llm_tokens=5)
    client = chat.connect()
    client.ask("What is P.A.D.?")
    first = client.turn()
    assert not any(f["type"] == "notice" for f in first)
    client.ask("And what is clopidogrel for?")
    second = client.turn()
    notice = next(f for f in second if f["type"] == "notice")
    assert notice["code"] == "quota_reached" and "midnight UTC" in notice["message"]
    assert types(second)[:2] == ["saved", "notice"]
    rows, _ = stored(chat.app, wait_for_assistant=2)
    assert [r.provider for r in rows if r.role == "assistant"] == ["openai", "curated"]
    assert len(chat.openai.requests()) == 1  # the second answer cost no tokens


def test_past_the_speech_cap_answers_are_written_not_spoken(chat):
    _cap(chat, daily_tts_chars=10)
    client = chat.connect("RID002")
    client.ask("What is P.A.D.?", conversation_id="speech-cap")
    assert any(f["type"] == "audio" for f in client.turn())
    client.ask("How do I walk more?", conversation_id="speech-cap")
    second = client.turn()
    assert next(f for f in second if f["type"] == "notice")["code"] == "quota_reached"
    assert not any(f["type"] == "audio" for f in second) and second[-1] == {"type": "audio_end", "count": 0}
    with chat.app.app_context():
        replies = db.session.execute(db.select(Message).where(Message.conversation_id == "speech-cap",
                                                              Message.role == "assistant")).scalars().all()
        db.session.remove()
    assert [r.provider for r in replies] == ["openai", "openai"]  # the text still from the LLM


def test_no_cap_means_no_notice(chat):
    _cap(chat, daily_llm_tokens=0, daily_tts_chars=0)
    client = chat.connect("RID003")
    for question in ("What is P.A.D.?", "What is clopidogrel for?"):
        client.ask(question, conversation_id="uncapped")
        assert not any(f["type"] == "notice" for f in client.turn())
