"""Small-cell protection: a count of 1 to ``min_cell - 1`` in a cohort × period cell is shown as
"<min_cell" in tables and left out of charts (a gap, with "<5" on hover); what was computed from
such a cell (a share, a mean, a percentile) is withheld with it. Zero is shown: it identifies no one.
"""
from __future__ import annotations

import pandas as pd


def small(values: pd.Series, min_cell: int) -> pd.Series:
    numeric = pd.to_numeric(values, errors="coerce")
    return (numeric > 0) & (numeric < min_cell)


def suppress(table: pd.DataFrame, min_cell: int, counts: list[str], derived: dict[str, str] | None = None
             ) -> pd.DataFrame:
    """A copy with the small ``counts`` shown as "<min_cell"; each ``derived`` column (name →
    the count it came from) is emptied where its count is small."""
    if min_cell <= 1 or table.empty:
        return table
    out = table.copy()
    marks = {name: small(out[name], min_cell) for name in counts}
    for name, base in (derived or {}).items():
        out[name] = out[name].astype(object).where(~marks[base], None)
    for name, mark in marks.items():
        out[name] = out[name].astype(object).where(~mark, f"<{min_cell}")
    return out


def plotted(series: pd.Series) -> list:
    """The values a chart draws: suppressed (and missing) cells become gaps (JSON null)."""
    return [None if pd.isna(v) else float(v) for v in pd.to_numeric(series, errors="coerce")]
