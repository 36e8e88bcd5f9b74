"""The error codes docs/protocol.md documents: what a client may ever receive."""
from __future__ import annotations

import re
from pathlib import Path

PROTOCOL = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"


def documented_codes() -> set[str]:
    """Every `code` written in backticks in the protocol's error-code tables."""
    text = PROTOCOL.read_text(encoding="utf-8") if PROTOCOL.exists() else ""
    return set(re.findall(r"^\|\s*`([a-z_]+)`", text, flags=re.MULTILINE))


DOCUMENTED_CODES = documented_codes()
