"""Plotly figures from dashboard tables, in one look; suppressed cells are gaps with "<5" on hover.

Figures are plain dicts in plotly.js's schema ({"data": [...], "layout": {...}}), not
``plotly.graph_objects``: the objects validate and deep-copy the template on every update, which
cost more than all of a dashboard's SQL once the rollups were in (BENCHMARKS.md, issue 14). The
template is resolved once, as plotly.py would embed it.
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import plotly.io as pio
from plotly.utils import PlotlyJSONEncoder

from .suppression import plotted

TEMPLATE = pio.templates["plotly_white"].to_plotly_json()
LAYOUT = dict(margin=dict(l=50, r=20, t=30, b=40), height=340, legend=dict(orientation="h", y=-0.2),
              font=dict(size=13))


def to_json(figure: dict) -> str:
    return json.dumps(figure, cls=PlotlyJSONEncoder, separators=(",", ":"))


def _figure(traces: list[dict], **layout) -> dict:
    return {"data": traces, "layout": {"template": TEMPLATE, **LAYOUT, **layout}}


def _values(series: pd.Series) -> list:
    return series.tolist()


def _hover(values: pd.Series) -> list[str]:
    return [str(v) for v in values]


def _groups(table: pd.DataFrame, series: str | None, default: str):
    return table.groupby(series, sort=True) if series else [(default, table)]


def lines(table: pd.DataFrame, x: str, y: str, series: str | None, y_title: str) -> dict:
    """One line per value of ``series`` (a cohort, a measure)."""
    traces = [{"type": "scatter", "x": _values(part[x]), "y": plotted(part[y]), "name": str(name),
               "mode": "lines+markers", "connectgaps": False, "customdata": _hover(part[y]),
               "hovertemplate": "%{x}: %{customdata}"}
              for name, part in _groups(table, series, y)]
    return _figure(traces, yaxis={"title": {"text": y_title}})


def bars(table: pd.DataFrame, x: str, ys: list[str] | str, series: str | None = None, y_title: str = "",
         stacked: bool = False, horizontal: bool = False) -> dict:
    if series:
        groups = [(str(name), part, ys if isinstance(ys, str) else ys[0]) for name, part in table.groupby(series)]
    else:
        groups = [(y, table, y) for y in ([ys] if isinstance(ys, str) else ys)]
    traces = []
    for name, part, y in groups:
        values = plotted(part[y])
        if horizontal:
            traces.append({"type": "bar", "y": _values(part[x].astype(str)), "x": values, "name": name,
                           "orientation": "h", "customdata": _hover(part[y]), "hovertemplate": "%{y}: %{customdata}"})
        else:
            labels = part[x].astype(str) if part[x].dtype == object else part[x]
            traces.append({"type": "bar", "x": _values(labels), "y": values, "name": name,
                           "customdata": _hover(part[y]), "hovertemplate": "%{x}: %{customdata}"})
    layout = {"barmode": "stack" if stacked else "group"}
    if horizontal:
        layout.update(xaxis={"title": {"text": y_title}}, height=max(260, 28 * table[x].nunique() + 80))
    else:
        layout.update(yaxis={"title": {"text": y_title}})
    return _figure(traces, **layout)


def scatter_with_trend(table: pd.DataFrame, x: str, y: str, series: str, x_title: str, y_title: str) -> dict:
    """Points per participant, with a least-squares line per series (numpy: no statsmodels)."""
    traces = []
    for name, part in table.groupby(series):
        traces.append({"type": "scatter", "x": _values(part[x]), "y": _values(part[y]), "mode": "markers",
                       "name": str(name), "opacity": 0.6, "marker": {"size": 6}})
        if len(part) >= 3 and part[x].nunique() > 1:
            slope, intercept = np.polyfit(part[x].astype(float), part[y].astype(float), 1)
            xs = np.array([part[x].min(), part[x].max()], dtype=float)
            traces.append({"type": "scatter", "x": xs.tolist(), "y": (slope * xs + intercept).tolist(),
                           "mode": "lines", "name": f"{name} trend"})
    return _figure(traces, xaxis={"title": {"text": x_title}}, yaxis={"title": {"text": y_title}})
