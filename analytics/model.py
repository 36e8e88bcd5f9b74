"""What a dashboard returns: panels, each a figure and the table it was drawn from."""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd


@dataclass
class Panel:
    key: str                      # stable id: the page's anchors, tests and the CSV names use it
    title: str
    table: pd.DataFrame           # what the figure shows, small cells already suppressed
    figure: dict | None = None    # plotly.js's figure schema (analytics.figures)
    note: str = ""
    # columns whose values link somewhere in the admin site: {"research_id": "participant"}
    links: dict[str, str] = field(default_factory=dict)


@dataclass
class Dashboard:
    name: str
    title: str
    panels: list[Panel]
    intro: str = ""

    def panel(self, key: str) -> Panel:
        return next(p for p in self.panels if p.key == key)
