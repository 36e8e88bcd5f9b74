"""Plotly figures from dashboard tables, in one look; suppressed cells are gaps with "<5" on hover."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from .suppression import plotted

LAYOUT = dict(template="plotly_white", margin=dict(l=50, r=20, t=30, b=40), height=340,
              legend=dict(orientation="h", y=-0.2), font=dict(size=13))


def _hover(values: pd.Series) -> list[str]:
    return [str(v) for v in values]


def lines(table: pd.DataFrame, x: str, y: str, series: str | None, y_title: str) -> go.Figure:
    """One line per value of ``series`` (a cohort, a measure)."""
    figure = go.Figure()
    for name, part in (table.groupby(series, sort=True) if series else [(y, table)]):
        figure.add_trace(go.Scatter(x=part[x], y=plotted(part[y]), name=str(name), mode="lines+markers",
                                    connectgaps=False, customdata=_hover(part[y]),
                                    hovertemplate="%{x}: %{customdata}"))
    figure.update_layout(**LAYOUT, yaxis_title=y_title)
    return figure


def bars(table: pd.DataFrame, x: str, ys: list[str] | str, series: str | None = None, y_title: str = "",
         stacked: bool = False, horizontal: bool = False) -> go.Figure:
    figure = go.Figure()
    if series:
        traces = [(str(name), part, ys if isinstance(ys, str) else ys[0]) for name, part in table.groupby(series)]
    else:
        traces = [(y, table, y) for y in ([ys] if isinstance(ys, str) else ys)]
    for name, part, y in traces:
        values = plotted(part[y])
        if horizontal:
            trace = go.Bar(y=part[x].astype(str), x=values, name=name, orientation="h",
                           customdata=_hover(part[y]), hovertemplate="%{y}: %{customdata}")
        else:
            trace = go.Bar(x=part[x].astype(str) if part[x].dtype == object else part[x], y=values, name=name,
                           customdata=_hover(part[y]), hovertemplate="%{x}: %{customdata}")
        figure.add_trace(trace)
    figure.update_layout(**LAYOUT, barmode="stack" if stacked else "group")
    if horizontal:
        figure.update_layout(xaxis_title=y_title, height=max(260, 28 * table[x].nunique() + 80))
    else:
        figure.update_layout(yaxis_title=y_title)
    return figure


def scatter_with_trend(table: pd.DataFrame, x: str, y: str, series: str, x_title: str, y_title: str) -> go.Figure:
    """Points per participant, with a least-squares line per series (numpy: no statsmodels)."""
    import numpy as np

    figure = go.Figure()
    for name, part in table.groupby(series):
        figure.add_trace(go.Scatter(x=part[x], y=part[y], mode="markers", name=str(name), opacity=0.6,
                                    marker=dict(size=6)))
        if len(part) >= 3 and part[x].nunique() > 1:
            slope, intercept = np.polyfit(part[x].astype(float), part[y].astype(float), 1)
            xs = np.array([part[x].min(), part[x].max()], dtype=float)
            figure.add_trace(go.Scatter(x=xs, y=slope * xs + intercept, mode="lines", name=f"{name} trend"))
    figure.update_layout(**LAYOUT, xaxis_title=x_title, yaxis_title=y_title)
    return figure
