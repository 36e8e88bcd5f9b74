"""Research IDs that people can read aloud and type, with a check character.

The alphabet leaves out 0/O and 1/I/L, which are read and typed one for the other. The last
character is a Luhn mod 31 check character over the others (python-stdnum's ``luhn`` with this
alphabet): it catches every single mistyped character and most swaps of two neighbours, so a
mistyped ID is refused at sign-in as a typing mistake rather than as an unknown ID.
"""
from __future__ import annotations

import re
import secrets

from stdnum import luhn

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
BODY_LENGTH = 7  # + 1 check character: 31**7 = 27.5 billion IDs per prefix
PREFIX_MAX = 12
_PREFIX_RE = re.compile(r"^[A-Z0-9]{1,%d}$" % PREFIX_MAX)
# PREFIX-XXXX-XXXX; the prefix is the study's own (it may hold any letter or digit).
_GENERATED_SHAPE = re.compile(r"^(?:[A-Z0-9]{1,%d}-)?([A-Z0-9]{4})-([A-Z0-9]{4})$" % PREFIX_MAX)

MISTYPED_MESSAGE = ("That research ID has a typing mistake. Check each character against your card: "
                    "PaCo's IDs never use the digits 0 and 1 or the letters O, I and L.")


def prefix_problem(prefix: str) -> str | None:
    if prefix and not _PREFIX_RE.match(prefix):
        return f"The prefix must be 1-{PREFIX_MAX} letters or digits (it is followed by a dash)."
    return None


def new_code(prefix: str = "") -> str:
    """A fresh ID such as ``PAD-7KQ4-M9XF`` (``prefix`` upper-case letters and digits, or none)."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(BODY_LENGTH))
    chars = body + luhn.calc_check_digit(body, ALPHABET)
    code = f"{chars[:4]}-{chars[4:]}"
    return f"{prefix}-{code}" if prefix else code


def is_mistyped(research_id: str) -> bool:
    """True when ``research_id`` (normalised) has the shape of a generated ID but cannot be one.

    Only asked for IDs PaCo does not know, so an imported ID that happens to have this shape is
    never refused by it.
    """
    match = _GENERATED_SHAPE.match(research_id)
    if not match:
        return False
    chars = match.group(1) + match.group(2)
    if any(c not in ALPHABET for c in chars):
        return True
    return not luhn.is_valid(chars, ALPHABET)
