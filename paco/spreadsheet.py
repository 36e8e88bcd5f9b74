"""Cells that a spreadsheet would run as formulas are written as text instead (OWASP, CSV injection).

Participants control message text and their user agent, and anyone can put text into the audit
log's actor with a failed staff sign-in: a cell beginning ``=``, ``+``, ``-`` or ``@`` (or a tab or
carriage return, which some spreadsheets skip before those) would run when an investigator opens
the export. A leading apostrophe makes it text; the original is that cell minus its first character.
"""
from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """The cell as written to CSV/XLSX: strings that start like a formula get a leading ``'``."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def original(value):
    """Undo ``neutralise`` for a cell read back from an export (only for cells it changed)."""
    if isinstance(value, str) and value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value
