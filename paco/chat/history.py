"""Seed-compatible history endpoint, plus the participant's list of conversations."""
from __future__ import annotations

from flask import g, jsonify, request

from ..auth.tokens import participant_required
from ..errors import Forbidden
from ..models.types import iso_utc
from ..rest import json_body
from ..services import conversations
from ..validation import conversation_id_field, field, research_id_field
from . import bp


@bp.post("/history")
@participant_required
def chat_history():
    body = json_body(request)
    research_id = research_id_field(body)
    if research_id != g.participant.research_id:
        raise Forbidden("forbidden", "You can only read your own conversations.")
    conversation_id = conversation_id_field(body)
    limit = field(body, "limit", int, required=False, default=50)
    messages = conversations.history(research_id, conversation_id, limit)
    return jsonify(conversation_id=conversation_id,
                   messages=[conversations.message_json(m) for m in messages])


@bp.get("/conversations")
@participant_required
def chat_conversations():
    rows = conversations.list_conversations(g.participant.research_id)
    return jsonify(conversations=[
        {"conversation_id": c.conversation_id,
         "created_at": iso_utc(c.created_at),
         "updated_at": iso_utc(c.updated_at)}
        for c in rows
    ])
