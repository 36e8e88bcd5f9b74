"""The chat WebSocket's frames (docs/protocol.md): strict parsing of client frames, server frame shapes."""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass

from ..errors import InvalidInput, PacoError, TooLarge
from ..validation import check_text, is_row_id, is_valid_conversation_id, normalise_research_id, parse_json

MAX_FRAME_BYTES = 16 * 1024
# What a client may say about how a question was entered ("checkin" is the server's own).
FRAME_INPUTS = ("voice", "text")
# The socket speaks fewer codes than REST: a page needs only "sign in again" (invalid_token,
# which every Unauthorized becomes) and "not allowed"; some refusals read better said here.
_FRAME_REFUSALS = {
    "research_id_inactive": ("forbidden", None),
    "research_id_not_accepted": ("forbidden", None),
    "conversation_not_found": ("forbidden", "That conversation belongs to someone else. Start a new one."),
}


@dataclass(frozen=True)
class ChatFrame:
    conversation_id: str
    message: str
    token: str | None
    research_id: str | None
    model: str | None
    client_id: str | None   # echoed back so a client can match replies to what it sent
    input: str | None = None  # "voice" when speech input wrote the question, "text" when typed


@dataclass(frozen=True)
class CheckinFrame:
    """Asks for PaCo's answer to the barrier named in a check-in; runs as a turn of its own."""

    conversation_id: str
    checkin_id: int
    token: str | None
    research_id: str | None
    client_id: str | None
    message: str = ""        # the answer as it reads in the conversation: filled from the check-in
    model: str | None = None
    input: str = "checkin"


def parse(raw, max_chars: int) -> ChatFrame | CheckinFrame | str:
    """A chat message or check-in frame, or the type of a control frame ("ping")."""
    if isinstance(raw, bytes):
        if len(raw) > MAX_FRAME_BYTES:
            raise TooLarge("too_large", f"Frames are limited to {MAX_FRAME_BYTES} bytes.")
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput("bad_request", "Frames must be UTF-8 JSON text.") from None
    if len(raw) > MAX_FRAME_BYTES:
        raise TooLarge("too_large", f"Frames are limited to {MAX_FRAME_BYTES} bytes.")
    try:
        frame = parse_json(raw, "The frame")
    except InvalidInput as err:
        raise InvalidInput("bad_request", err.message) from None
    if not isinstance(frame, dict):
        raise InvalidInput("bad_request", "The frame must be a JSON object.")
    kind = frame.get("type", "message")
    if kind == "ping":
        return "ping"
    if kind not in ("message", "checkin"):
        raise InvalidInput("bad_request", f"Unknown frame type {kind!r}.")
    for name in ("token", "research_id", "model", "client_id", "message"):
        if frame.get(name) is not None and not isinstance(frame[name], str):
            raise InvalidInput("bad_request", f"The field '{name}' must be a string.")
        if isinstance(frame.get(name), str):
            check_text(frame[name], name)
    if kind == "checkin":
        return _checkin(frame)
    message = frame.get("message")
    if not isinstance(message, str):
        raise InvalidInput("bad_request", "The field 'message' must be a string." if message is not None
                         else "The field 'message' is required.")
    message = message.strip()
    if not message:
        raise InvalidInput("bad_request", "The message is empty.")
    if len(message) > max_chars:
        raise TooLarge("too_large", f"Messages are limited to {max_chars} characters.")
    conversation_id = frame.get("conversation_id")
    if not is_valid_conversation_id(conversation_id):
        raise InvalidInput("bad_request", "The field 'conversation_id' must be 1-100 letters, digits, '_' or '-'.")
    entered = frame.get("input")
    if entered is not None and entered not in FRAME_INPUTS:
        raise InvalidInput("bad_request", "The field 'input' must be \"voice\" or \"text\".")
    research_id = frame.get("research_id")
    return ChatFrame(
        conversation_id=conversation_id, message=message, token=frame.get("token") or None,
        research_id=normalise_research_id(research_id) if research_id else None,
        model=frame.get("model") or None, client_id=(frame.get("client_id") or None), input=entered,
    )


def _checkin(frame: dict) -> CheckinFrame:
    checkin_id = frame.get("checkin_id")
    if not is_row_id(checkin_id):
        raise InvalidInput("bad_request", "The field 'checkin_id' must be the id of a check-in (a whole number).")
    conversation_id = frame.get("conversation_id")
    if not is_valid_conversation_id(conversation_id):
        raise InvalidInput("bad_request", "The field 'conversation_id' must be 1-100 letters, digits, '_' or '-'.")
    research_id = frame.get("research_id")
    return CheckinFrame(conversation_id=conversation_id, checkin_id=checkin_id, token=frame.get("token") or None,
                        research_id=normalise_research_id(research_id) if research_id else None,
                        client_id=frame.get("client_id") or None)


def error_frame(err: PacoError, **extra) -> dict:
    """The socket's one mapping of a domain error: an ``error`` frame; the socket stays open."""
    if err.kind == "unauthorized":
        code, message = "invalid_token", None
    else:
        code, message = _FRAME_REFUSALS.get(err.code, (err.code, None))
    return error(code, message or err.message, retry_after=err.retry_after, **extra)


def error(code: str, message: str, **extra) -> dict:
    frame = {"type": "error", "code": code, "message": message}
    frame.update({k: v for k, v in extra.items() if v is not None})
    return frame


def encode(frame: dict) -> str:
    return json.dumps(frame, separators=(",", ":"), ensure_ascii=False)


def audio(seq: int, text: str, mp3: bytes, audio_url: str) -> str:
    """An ``audio`` frame, encoded. Base64 needs no JSON escaping, so the payload is spliced in
    rather than scanned by the encoder: that scan was ~5 % of a busy worker's CPU."""
    head = encode({"type": "audio", "seq": seq, "text": text, "format": "mp3", "audio_url": audio_url})
    return f'{head[:-1]},"audio_base64":"{base64.b64encode(mp3).decode("ascii")}"}}'
