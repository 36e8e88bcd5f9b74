"""Strict parsing of request bodies and fields into plain values, with specific errors (no Flask)."""
from __future__ import annotations

import json
import re
from typing import Any

from .errors import InvalidInput
from .models.chat import CONVERSATION_ID_MAX_LENGTH
from .models.participants import RESEARCH_ID_MAX_LENGTH

_RESEARCH_ID_RE = re.compile(r"^[A-Z0-9][A-Z0-9_.-]*$")
_CONVERSATION_ID_RE = re.compile(r"^[A-Za-z0-9_-]+$")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# Valid JSON escapes that no database column can hold: NUL (PostgreSQL text) and lone surrogates
# (not encodable as UTF-8).
_UNSTORABLE_RE = re.compile("[\x00\ud800-\udfff]")
MAX_JSON_DEPTH = 32
# Row IDs are 32-bit integers on PostgreSQL (and SQLite's are 64-bit): a larger number names no
# row, and must not reach the database, which would refuse it with an error rather than no row.
MAX_ROW_ID = 2**31 - 1


def is_digits(text: str) -> bool:
    """Only the ASCII digits 0-9: ``str.isdigit`` also takes '²' and other Unicode digits, which
    ``int`` refuses (a 500 the fuzzing found) or reads as numbers nobody typed."""
    return text.isascii() and text.isdigit()


def is_row_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ROW_ID


def text_problem(value: str) -> str | None:
    """Why a piece of text cannot be stored as it is, or None; every text field is checked."""
    if _UNSTORABLE_RE.search(value):
        return "The text contains a character that cannot be stored (a NUL or a broken emoji/surrogate)."
    return None


def check_text(value: str, name: str) -> str:
    problem = text_problem(value)
    if problem:
        raise InvalidInput("invalid_text", f"The field '{name}': {problem}")
    return value


def json_depth(value: Any) -> int:
    """How deeply arrays and objects nest (iterative: a deep value must not exhaust the stack)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = item.values()
        elif not isinstance(item, list):
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in item)
    return deepest


def parse_json(raw: str | bytes, what: str = "The request body"):
    """JSON text into plain values; refuses what is not JSON or nests past ``MAX_JSON_DEPTH``."""
    try:
        value = json.loads(raw)
    except RecursionError:
        raise InvalidInput("bad_request", f"{what} nests more than {MAX_JSON_DEPTH} levels deep.") from None
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("malformed_json", f"{what} is not valid JSON.") from None
    if json_depth(value) > MAX_JSON_DEPTH:
        raise InvalidInput("bad_request", f"{what} nests more than {MAX_JSON_DEPTH} levels deep.")
    return value


def parse_json_object(raw: bytes) -> dict:
    """A request body that must be one JSON object, or an error that says what is wrong with it."""
    if not raw.strip():
        raise InvalidInput("malformed_json", "The request body must be a JSON object.")
    body = parse_json(raw)
    if not isinstance(body, dict):
        raise InvalidInput("malformed_json", "The request body must be a JSON object.")
    return body


def field(body: dict, name: str, kind: type, *, required: bool = True, default: Any = None,
          check_chars: bool = True):
    """One field of a parsed body, checked for presence and type (bool is not an int here).

    Text is checked for characters no database can store, unless the caller's own rule for the
    field is stricter (``check_chars=False``: research IDs allow far fewer characters).
    """
    if name not in body or body[name] is None:
        if required:
            raise InvalidInput("missing_field", f"The field '{name}' is required.")
        return default
    value = body[name]
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise InvalidInput("invalid_field", f"The field '{name}' must be a whole number.")
    if kind is str:
        if not isinstance(value, str):
            raise InvalidInput("invalid_field", f"The field '{name}' must be a string.")
        if check_chars:
            check_text(value, name)
    return value


def normalise_research_id(value: str) -> str:
    """Research IDs are case-insensitive for people typing them: stored and compared upper-case.

    Only spaces are trimmed: a control character anywhere (a pasted newline included) is refused.
    """
    return value.strip(" ").upper()


def research_id_problem(value: str) -> str | None:
    """Why a (normalised) research ID is malformed, or None; shared by the API and the importers."""
    if _CONTROL_RE.search(value):
        return "The research ID contains characters that are not allowed."
    if not value:
        return "The research ID is empty."
    if len(value) > RESEARCH_ID_MAX_LENGTH:
        return f"The research ID is longer than {RESEARCH_ID_MAX_LENGTH} characters."
    if not _RESEARCH_ID_RE.match(value):
        return "The research ID may contain only letters, digits, '-', '_' and '.'."
    return None


def research_id_field(body: dict, name: str = "research_id") -> str:
    value = normalise_research_id(field(body, name, str, check_chars=False))
    problem = research_id_problem(value)
    if problem:
        raise InvalidInput("invalid_research_id", problem)
    return value


def is_valid_conversation_id(value: Any) -> bool:
    return (isinstance(value, str) and 0 < len(value) <= CONVERSATION_ID_MAX_LENGTH
            and bool(_CONVERSATION_ID_RE.match(value)))


def conversation_id_field(body: dict, name: str = "conversation_id") -> str:
    value = field(body, name, str)
    if not is_valid_conversation_id(value):
        raise InvalidInput("invalid_conversation_id",
                       f"The conversation ID must be 1-{CONVERSATION_ID_MAX_LENGTH} letters, digits, '_' or '-'.")
    return value
