"""Conversations and their messages."""
from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from ..errors import ApiError
from ..extensions import db
from ..models import Conversation, Message, TurnMetrics, utcnow
from ..models.types import iso_utc

HISTORY_MAX_LIMIT = 200


def find_conversation(conversation_id: str) -> Conversation | None:
    return db.session.execute(
        db.select(Conversation).where(Conversation.conversation_id == conversation_id)
    ).scalar_one_or_none()


def _not_found() -> ApiError:
    # Same answer for "someone else's" and "no such conversation": IDs reveal nothing.
    return ApiError(404, "conversation_not_found", "That conversation was not found.")


def open_conversation(research_id: str, conversation_id: str) -> Conversation:
    """The participant's conversation; a new ID starts one owned by them, another's is refused."""
    conversation = find_conversation(conversation_id)
    if conversation is None:
        conversation = Conversation(research_id=research_id, conversation_id=conversation_id)
        db.session.add(conversation)
        try:
            db.session.commit()
        except IntegrityError:  # created by a concurrent request in the meantime
            db.session.rollback()
            conversation = find_conversation(conversation_id)
    if conversation is None or conversation.research_id != research_id:
        raise _not_found()
    return conversation


def history(research_id: str, conversation_id: str, limit: int) -> list[Message]:
    """The newest ``limit`` messages in order; an unused ID has an empty history."""
    if not 1 <= limit <= HISTORY_MAX_LIMIT:
        raise ApiError(400, "invalid_field", f"The field 'limit' must be between 1 and {HISTORY_MAX_LIMIT}.")
    conversation = find_conversation(conversation_id)
    if conversation is None:
        return []
    if conversation.research_id != research_id:
        raise _not_found()
    newest = db.session.execute(
        db.select(Message).where(Message.conversation_id == conversation_id)
        .order_by(Message.created_at.desc(), Message.id.desc()).limit(limit)
    ).scalars().all()
    return list(reversed(newest))


def list_conversations(research_id: str, limit: int = 20) -> list[Conversation]:
    return db.session.execute(
        db.select(Conversation).where(Conversation.research_id == research_id)
        .order_by(Conversation.updated_at.desc()).limit(limit)
    ).scalars().all()


def message_json(message: Message) -> dict:
    data = {
        "id": message.id,
        "role": message.role,
        "content": message.content,
        "timestamp": iso_utc(message.created_at),
        "status": message.status,
    }
    if message.safety_category:
        data["safety"] = {"category": message.safety_category, "rule": message.safety_rule}
    return data


def recent_turns(conversation_id: str, max_messages: int) -> list[tuple[str, str]]:
    """The newest messages that can serve as context, oldest first (failed turns are left out)."""
    if max_messages <= 0:
        return []
    rows = db.session.execute(
        db.select(Message.role, Message.content)
        .where(Message.conversation_id == conversation_id, Message.status != "failed", Message.content != "")
        .order_by(Message.created_at.desc(), Message.id.desc()).limit(max_messages)
    ).all()
    return [(role, content) for role, content in reversed(rows)]


def save_message(conversation_id: str, role: str, content: str, **fields) -> int:
    """Insert and commit one message; returns its id. The conversation's ``updated_at`` moves too.

    Core statements, not the unit of work: this runs twice per chat turn, and the ORM's flush
    cost more CPU than the database did (nothing here is read back as an object).
    """
    now = utcnow()
    message_id = db.session.execute(
        db.insert(Message.__table__).returning(Message.__table__.c.id)
        .values(conversation_id=conversation_id, role=role, content=content, created_at=now, **fields)
    ).scalar_one()
    db.session.execute(db.update(Conversation.__table__)
                       .where(Conversation.__table__.c.conversation_id == conversation_id)
                       .values(updated_at=now))
    db.session.commit()
    return message_id


def save_turn_metrics(message_id: int, **fields) -> None:
    db.session.execute(db.insert(TurnMetrics.__table__).values(message_id=message_id, **fields))
    db.session.commit()
