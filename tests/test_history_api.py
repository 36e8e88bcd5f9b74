"""Chat history over the seed's REST endpoint."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from paco.extensions import db
from paco.models import Conversation, Message
from paco.services import conversations

HISTORY = "/api/v1/chat/history"


def _seed_conversation(owner: str, conversation_id: str, n: int):
    db.session.add(Conversation(research_id=owner, conversation_id=conversation_id))
    start = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)
    for i in range(n):
        db.session.add(Message(conversation_id=conversation_id, role="user" if i % 2 == 0 else "assistant",
                               content=f"message {i}", created_at=start + timedelta(seconds=i)))
    db.session.commit()


def test_history_returns_newest_messages_in_order(client, login):
    headers = login("RID001")
    _seed_conversation("RID001", "RID001_20260101_120000", 7)
    r = client.post(HISTORY, headers=headers,
                    json={"research_id": "RID001", "conversation_id": "RID001_20260101_120000", "limit": 3})
    assert r.status_code == 200
    messages = r.get_json()["messages"]
    assert [m["content"] for m in messages] == ["message 4", "message 5", "message 6"]
    assert messages[0]["role"] == "user" and messages[0]["timestamp"] == "2026-01-01T12:00:04Z"


def test_unused_conversation_has_empty_history(client, login):
    headers = login("RID001")
    r = client.post(HISTORY, headers=headers, json={"research_id": "RID001", "conversation_id": "new-one", "limit": 50})
    assert r.status_code == 200 and r.get_json()["messages"] == []


def test_another_participants_conversation_is_not_found(client, login):
    headers = login("RID001")
    _seed_conversation("RID002", "theirs", 2)
    r = client.post(HISTORY, headers=headers, json={"research_id": "RID001", "conversation_id": "theirs", "limit": 50})
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "conversation_not_found"


def test_research_id_in_body_must_match_the_token(client, login):
    headers = login("RID001")
    _seed_conversation("RID002", "theirs", 2)
    r = client.post(HISTORY, headers=headers, json={"research_id": "RID002", "conversation_id": "theirs", "limit": 50})
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "forbidden"


def test_history_input_errors(client, login):
    headers = login("RID001")
    cases = [
        ({"research_id": "RID001", "conversation_id": "x", "limit": 0}, "invalid_field"),
        ({"research_id": "RID001", "conversation_id": "x", "limit": "5"}, "invalid_field"),
        ({"research_id": "RID001", "conversation_id": "bad id!", "limit": 5}, "invalid_conversation_id"),
        ({"research_id": "RID001", "conversation_id": "c" * 101, "limit": 5}, "invalid_conversation_id"),
        ({"research_id": "RID001", "limit": 5}, "missing_field"),
    ]
    for body, code in cases:
        r = client.post(HISTORY, headers=headers, json=body)
        assert r.status_code == 400 and r.get_json()["error"]["code"] == code, (body, r.get_json())


def test_list_of_own_conversations(client, login):
    headers = login("RID001")
    _seed_conversation("RID001", "mine", 1)
    _seed_conversation("RID002", "theirs", 1)
    r = client.get("/api/v1/chat/conversations", headers=headers)
    assert [c["conversation_id"] for c in r.get_json()["conversations"]] == ["mine"]


def test_a_turns_storage_refuses_a_misspelt_field_and_stores_nothing(app, demo):
    # The chat turn stores through prebuilt statements whose parameters are matched by name;
    # a field that is no column must fail loudly, not be dropped.

    conversations.open_conversation("RID001", "c-typo")
    with pytest.raises(TypeError, match="proivder"):
        conversations.save_message("c-typo", "assistant", "text", proivder="openai")
    db.session.rollback()
    message_id = conversations.save_message("c-typo", "assistant", "text", provider="openai", status="complete")
    with pytest.raises(TypeError, match="first_tokn_ms"):
        conversations.save_turn_metrics(message_id, first_tokn_ms=1.0)
    db.session.rollback()
    stored = db.session.execute(db.select(Message).where(Message.conversation_id == "c-typo")).scalars().all()
    assert [(m.provider, m.content) for m in stored] == [("openai", "text")]
    assert conversations.history("RID001", "c-typo", 10)[0].provider == "openai"
