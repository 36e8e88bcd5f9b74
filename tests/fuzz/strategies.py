"""Hypothesis strategies for what a hostile or broken client can send PaCo."""
from __future__ import annotations

from hypothesis import strategies as st

# Text with what breaks naive code: NUL, lone surrogates, controls, long runs, emoji, RTL marks.
nasty_text = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec=None, min_codepoint=0, max_codepoint=0x10FFFF), max_size=40),
    st.sampled_from(["", " ", "\x00", "\ud800", "RID001", "rid001 ", "RID\x00001", "=cmd|'/c calc'!A0",
                     "' OR 1=1 --", "<script>alert(1)</script>", "../../etc/passwd", "\u202eRID", "x" * 5000]),
)
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
                         st.floats(allow_nan=False, allow_infinity=False), nasty_text)
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(nasty_text, inner, max_size=4)), max_leaves=12)

FIELDS = ["research_id", "version", "conversation_id", "limit", "message", "token", "model", "client_id", "type",
          "taken", "reason", "note", "date", "tz_offset_minutes", "checkin_id", "message_id", "prompt"]
# Check-in answers with each field of any type, or of a value near the rules (days, offsets, codes).
CHECKIN_VALUES = {
    "taken": st.sampled_from(["all", "some", "none", "ALL", "", "most"]),
    "reason": st.sampled_from(["forgot", "side_effects", "cost", "ran_out", "on_purpose", "other", "x", ""]),
    "date": st.one_of(st.dates().map(str), st.sampled_from(["2026-02-30", "2026-1-1", "today", ""])),
    "tz_offset_minutes": st.one_of(st.integers(min_value=-1000, max_value=1000), st.floats(allow_nan=False)),
    "note": nasty_text,
}
checkin_bodies = st.fixed_dictionaries({}, optional={name: st.one_of(values, json_values)
                                                     for name, values in CHECKIN_VALUES.items()})
# Bodies shaped like the real ones, with each field of any type (or missing).
shaped_bodies = st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=6)


def deep(depth: int) -> str:
    return "[" * depth + "]" * depth


raw_bodies = st.one_of(
    st.binary(max_size=300),                                   # invalid UTF-8 and garbage
    st.integers(min_value=30, max_value=3000).map(deep).map(str.encode),
    st.just(b"{" + b'"a":' * 1 + b"1}"),
    st.just(b"x" * 70000),                                     # over the body limit
)
content_types = st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded",
                                 "multipart/form-data; boundary=x", "application/json; charset=latin-1", ""])
