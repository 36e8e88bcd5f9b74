"""Every daily check-in answer, changes included (read-only): the history behind each day's
self-reported adherence record (paco.services.checkins)."""
from __future__ import annotations

from flask_admin.contrib.sqla.filters import FilterEqual

from paco.models import BARRIERS, CHECKIN_TAKEN, Checkin

from ..base import StaffModelView


class CheckinView(StaffModelView):
    area = "checkins"
    supports = frozenset({"list", "export"})
    column_list = ["research_id", "date", "taken", "reason", "note", "value", "wording", "tz_offset_minutes",
                   "answered_at", "reply_message_id"]
    column_labels = {"research_id": "Research ID", "date": "Day (participant's)", "taken": "Took",
                     "tz_offset_minutes": "UTC offset (min)", "answered_at": "Answered",
                     "reply_message_id": "PaCo's reply (message)"}
    column_descriptions = {
        "value": "Stored on the day's self_report adherence record: all 1.0, some 0.5, none 0.0.",
        "date": "The participant's own calendar day; a later answer the same day replaces the record's value.",
    }
    column_searchable_list = ["research_id", "note"]
    column_filters = [
        "research_id",
        FilterEqual(Checkin.taken, "Took", options=[(t, t) for t in CHECKIN_TAKEN]),
        FilterEqual(Checkin.reason, "Reason", options=[(r, r) for r in BARRIERS]),
        "date", "answered_at", "wording",
    ]
    column_default_sort = [("research_id", False), ("date", True), ("answered_at", True)]
