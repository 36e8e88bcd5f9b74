"""Conversations and their messages."""
from __future__ import annotations

from functools import cache
from types import SimpleNamespace

from sqlalchemy.exc import IntegrityError

from ..errors import InvalidInput, NotFound
from ..extensions import db
from ..models import Conversation, Message, TurnMetrics, utcnow
from ..models.types import iso_utc
from ..validation import is_row_id
from .topics import topic_of
from .transaction import committing

HISTORY_MAX_LIMIT = 200


def find_conversation(conversation_id: str) -> Conversation | None:
    return db.session.execute(
        db.select(Conversation).where(Conversation.conversation_id == conversation_id)
    ).scalar_one_or_none()


@cache
def _chat_statements() -> SimpleNamespace:
    """The statements of every chat turn, built once: building them per call (coercions,
    cache keys) cost more CPU than PostgreSQL took to run them."""
    conversations, messages = Conversation.__table__, Message.__table__
    conversation_id = db.bindparam("conversation_id")
    return SimpleNamespace(
        owner=db.select(conversations.c.research_id).where(conversations.c.conversation_id == conversation_id),
        create=db.insert(conversations),
        recent=(db.select(messages.c.role, messages.c.content)
                .where(messages.c.conversation_id == conversation_id, messages.c.status != "failed",
                       messages.c.content != "")
                .order_by(messages.c.created_at.desc(), messages.c.id.desc()).limit(db.bindparam("limit"))),
        insert_message=db.insert(messages).returning(messages.c.id),
        # UPDATE reserves bind names equal to column names
        touch=(db.update(conversations).where(conversations.c.conversation_id == db.bindparam("key"))
               .values(updated_at=db.bindparam("now"))),
        insert_metrics=db.insert(TurnMetrics.__table__),
    )


def _checked(table, fields: dict) -> dict:
    # Parameters given at execution are matched to columns by name and extras are ignored:
    # a misspelt field must fail, not vanish.
    unknown = fields.keys() - table.c.keys()
    if unknown:
        raise TypeError(f"{table.name} has no column(s) {sorted(unknown)}")
    return fields


def _not_found() -> NotFound:
    # Same answer for "someone else's" and "no such conversation": IDs reveal nothing.
    return NotFound("conversation_not_found", "That conversation was not found.")


def open_conversation(research_id: str, conversation_id: str) -> None:
    """Check the participant may use the conversation; a new ID starts one owned by them,
    another participant's is refused."""
    statements = _chat_statements()
    owner = db.session.execute(statements.owner, {"conversation_id": conversation_id}).scalar()
    if owner is None:
        now = utcnow()
        try:
            db.session.execute(statements.create, {"research_id": research_id, "conversation_id": conversation_id,
                                                   "created_at": now, "updated_at": now})
            db.session.commit()
            return
        except IntegrityError:  # created by a concurrent request in the meantime
            db.session.rollback()
            owner = db.session.execute(statements.owner, {"conversation_id": conversation_id}).scalar()
    if owner != research_id:
        raise _not_found()


def history(research_id: str, conversation_id: str, limit: int) -> list[Message]:
    """The newest ``limit`` messages in order; an unused ID has an empty history."""
    if not 1 <= limit <= HISTORY_MAX_LIMIT:
        raise InvalidInput("invalid_field", f"The field 'limit' must be between 1 and {HISTORY_MAX_LIMIT}.")
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


def spoken_answer(research_id: str, message_id: int) -> str:
    """The text of one of PaCo's stored answers to this participant, to be spoken again."""
    if not is_row_id(message_id):
        raise NotFound("message_not_found", "That answer was not found.")
    row = db.session.execute(
        db.select(Message.content, Message.role, Message.status, Conversation.research_id)
        .join(Conversation, Conversation.conversation_id == Message.conversation_id)
        .where(Message.id == message_id)).first()
    # Same answer for "someone else's" and "no such answer": message IDs reveal nothing.
    if row is None or row.research_id != research_id or row.role != "assistant" or not row.content.strip():
        raise NotFound("message_not_found", "That answer was not found.")
    return row.content


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
    rows = db.session.execute(_chat_statements().recent,
                              {"conversation_id": conversation_id, "limit": max_messages}).all()
    return [(role, content) for role, content in reversed(rows)]


def save_message(conversation_id: str, role: str, content: str, **fields) -> int:
    """Insert and commit one message; returns its id. The conversation's ``updated_at`` moves too."""
    message_id = insert_message(conversation_id, role, content, **fields)
    db.session.commit()
    return message_id


def insert_message(conversation_id: str, role: str, content: str, now=None, **fields) -> int:
    """Insert one message in the transaction under way (the caller commits); returns its id.

    Core statements, not the unit of work: this runs twice per chat turn, and the ORM's flush
    cost more CPU than the database did (nothing here is read back as an object). A question
    gets its topic tag here, once (a few compiled patterns: microseconds).
    """
    statements, now = _chat_statements(), now or utcnow()
    if role == "user" and "topic" not in fields:
        fields["topic"] = topic_of(content)
    row = _checked(Message.__table__, dict(conversation_id=conversation_id, role=role, content=content,
                                           created_at=now, **fields))
    message_id = db.session.execute(statements.insert_message, row).scalar_one()
    db.session.execute(statements.touch, {"key": conversation_id, "now": now})
    return message_id


def flag_message(message_id: int, category: str, rule: str, layer: str) -> None:
    """Record a safety decision taken after the message was stored (the second layer's)."""
    with committing() as session:
        session.execute(db.update(Message).where(Message.id == message_id).values(
            safety_category=category, safety_rule=rule, safety_layer=layer))


def save_turn_metrics(message_id: int, **fields) -> None:
    insert_turn_metrics(message_id, **fields)
    db.session.commit()


def insert_turn_metrics(message_id: int, **fields) -> None:
    db.session.execute(_chat_statements().insert_metrics,
                       _checked(TurnMetrics.__table__, dict(message_id=message_id, **fields)))
