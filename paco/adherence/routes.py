"""``POST /api/v1/adherence/checkin`` and ``GET /api/v1/adherence/checkins``: thin over
``paco.services.checkins`` (parse, one service call, respond)."""
from __future__ import annotations

from flask import current_app, g, jsonify, request

from ..auth.limits import hit_participant_limit
from ..auth.tokens import participant_required
from ..errors import Forbidden, InvalidInput
from ..rest import json_body
from ..services import checkins
from ..validation import field, is_digits, research_id_field
from . import bp


def _limit() -> None:
    hit_participant_limit("checkins", g.participant.research_id, current_app.config["PACO_RATE_LIMIT_CHECKINS"],
                          "checkins")


@bp.post("/checkin")
@participant_required
def answer_checkin():
    _limit()
    body = json_body(request)
    if body.get("research_id") is not None and research_id_field(body) != g.participant.research_id:
        raise Forbidden("forbidden", "You can only answer your own check-in.")
    checkin, first = checkins.record(
        g.participant, field(body, "taken", str), reason=field(body, "reason", str, required=False),
        note=field(body, "note", str, required=False), day=field(body, "date", str, required=False),
        tz_offset_minutes=checkins.check_offset(0 if body.get("tz_offset_minutes") is None
                                                else body["tz_offset_minutes"]))
    data = checkins.checkin_json(checkin)
    if checkin.reason is not None:
        data["message"] = checkins.message_text(checkin)  # how it will read in the conversation
    return jsonify(checkin=data), 201 if first else 200


@bp.get("/checkins")
@participant_required
def list_checkins():
    _limit()
    found = checkins.recent(g.participant, _whole(request.args.get("days", "14"), "days"),
                            _query_offset(request.args.get("tz_offset_minutes", "0")))
    return jsonify(checkins=[checkins.checkin_json(c, found.answers[c.date]) for c in found.latest],
                   today=found.today.isoformat(), enabled=found.settings.enabled, due=found.due,
                   question=checkins.question_json(found.settings))


def _whole(raw: str, name: str) -> int:
    text = raw.strip()
    if not is_digits(text.lstrip("-")) or len(text) > 6:
        raise InvalidInput("invalid_field", f"The parameter '{name}' must be a whole number.")
    return int(text)


def _query_offset(raw: str) -> int:
    text = raw.strip()
    if not is_digits(text.lstrip("-+")) or len(text) > 6:
        raise InvalidInput("invalid_tz_offset", "The parameter 'tz_offset_minutes' must be a whole number of "
                                                "minutes east of UTC.")
    return checkins.check_offset(int(text))
