"""Property-based: no chat frame breaks the server, closes the socket, or gets an undocumented
error code; the socket keeps answering pings. Runs against a live gunicorn server on SQLite and
PostgreSQL."""
from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.chat import ChatClient, sign_in

from .documented import DOCUMENTED_CODES
from .strategies import json_values, nasty_text, shaped_bodies

FRAMES = st.one_of(
    shaped_bodies.map(json.dumps),
    shaped_bodies.map(lambda body: json.dumps({"type": "message", "conversation_id": "fuzz", **body})),
    shaped_bodies.map(lambda body: json.dumps({"type": "checkin", "conversation_id": "fuzz", "checkin_id": 1, **body})),
    json_values.map(json.dumps),
    nasty_text,
    st.binary(max_size=200),
    st.sampled_from(["[" * 2000 + "]" * 2000, "{}", "null", '{"type": "ping"}', '{"type": null}']),
)


def _with_token(frame, token):
    if isinstance(frame, str) and frame.startswith("{") and frame.endswith("}") and len(frame) > 2:
        return '{"token": "%s", ' % token + frame[1:]
    return frame


def _exchange(client, frame) -> list[dict]:
    try:
        client.send(frame)
    except ValueError:  # websocket-client refuses to encode lone surrogates itself
        return []
    replies: list[dict] = []
    while True:
        reply = client.recv(30)
        replies.append(reply)
        if reply["type"] in ("pong", "audio_end", "audio_error"):
            return replies
        if reply["type"] == "error" and not any(r["type"] == "user_message_saved" for r in replies):
            return replies


@settings(max_examples=1500, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(frame=FRAMES, with_token=st.booleans())
def test_any_frame(chat, frame, with_token):
    token = getattr(test_any_frame, "token", None)
    if token is None:
        token = test_any_frame.token = sign_in(chat.server, "RID001")
    client = ChatClient(chat.server, token, "RID001")  # a socket per case: failures stay independent
    try:
        replies = _exchange(client, _with_token(frame, token) if with_token else frame)
        for reply in replies:
            if reply["type"] == "error":
                assert reply["code"] in DOCUMENTED_CODES and reply["code"] != "internal", reply
        assert client.ping() == {"type": "pong"}  # still open
    finally:
        client.close()
