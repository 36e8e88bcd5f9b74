"""Conversations and messages, read-only: what PaCo said, how fast, and what safety flagged."""
from __future__ import annotations

from flask import url_for
from flask_admin.contrib.sqla.filters import FilterEqual
from markupsafe import Markup

from paco.extensions import db
from paco.models import Message
from paco.models.chat import MESSAGE_ROLES, MESSAGE_STATUSES

from ..base import StaffModelView
from ..filters import MessageResearchIDFilter, SafetyFlagFilter

METRIC_COLUMNS = ["metrics.first_token_ms", "metrics.first_sentence_ms", "metrics.first_audio_ms",
                  "metrics.total_ms", "metrics.tts_ms"]
METRIC_EXPORT_COLUMNS = METRIC_COLUMNS + [
    "metrics.response_chars", "metrics.response_tokens", "metrics.sentences",
    "metrics.audio_cache_hits", "metrics.provider_errors", "metrics.tts_errors", "metrics.error_detail"]


def _messages_link(view, context, conversation, name):
    count = db.session.execute(
        db.select(db.func.count(Message.id)).where(Message.conversation_id == conversation.conversation_id)
    ).scalar()
    url = url_for("admin_messages.index_view", search=conversation.conversation_id)
    return Markup('<a href="{}">{} messages</a>').format(url, count)


class ConversationView(StaffModelView):
    area = "conversations"
    column_list = ["conversation_id", "research_id", "messages", "created_at", "updated_at"]
    column_export_list = ["conversation_id", "research_id", "created_at", "updated_at"]
    column_labels = {"conversation_id": "Conversation", "research_id": "Research ID"}
    column_formatters = {"messages": _messages_link}
    column_searchable_list = ["conversation_id", "research_id"]
    column_filters = ["research_id", "created_at", "updated_at"]
    column_default_sort = ("updated_at", True)


def _content(view, context, message, name):
    text = message.content
    return text if len(text) <= 160 else text[:157] + "…"


def _safety(view, context, message, name):
    if not message.safety_category:
        return ""
    layer = " (missed by the rules, caught by the classifier)" if message.safety_layer == "classifier" else ""
    return Markup('<span class="badge badge-danger">{}</span> {}{}').format(
        message.safety_category, message.safety_rule or "", layer)


class MessageView(StaffModelView):
    area = "messages"
    column_list = ["created_at", "conversation_id", "role", "status", "content", "safety",
                   "provider", "model", "prompt_version"] + METRIC_COLUMNS
    column_export_list = ["id", "created_at", "conversation_id", "role", "status", "content",
                          "safety_category", "safety_rule", "safety_layer", "provider", "model", "prompt_version",
                          "audio_url"] + METRIC_EXPORT_COLUMNS
    column_labels = {
        "conversation_id": "Conversation", "prompt_version": "Prompt",
        "metrics.first_token_ms": "First token (ms)", "metrics.first_sentence_ms": "First sentence (ms)",
        "metrics.first_audio_ms": "First audio (ms)", "metrics.total_ms": "Total (ms)",
        "metrics.tts_ms": "TTS (ms)", "safety_layer": "Safety layer",
    }
    column_formatters = {"content": _content, "safety": _safety}
    column_details_list = ["id", "created_at", "conversation_id", "role", "status", "content", "safety",
                           "provider", "model", "prompt_version", "audio_url"] + METRIC_EXPORT_COLUMNS
    column_formatters_detail = {"safety": _safety}  # the whole message, not the list's excerpt
    column_formatters_export = {}
    column_select_related_list = [Message.metrics]
    column_sortable_list = ["created_at", "conversation_id", "role", "status", "provider", "model"]
    column_searchable_list = ["content", "conversation_id", "safety_rule"]
    column_filters = [
        MessageResearchIDFilter(),
        FilterEqual(Message.role, "Role", options=[(r, r) for r in MESSAGE_ROLES]),
        FilterEqual(Message.status, "Status", options=[(s, s) for s in MESSAGE_STATUSES]),
        SafetyFlagFilter(),
        "safety_category", "safety_layer", "provider", "model", "prompt_version", "created_at",
    ]
    column_default_sort = ("created_at", True)
