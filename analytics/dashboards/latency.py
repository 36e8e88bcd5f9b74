"""Latency: time to first token, first audio and whole turn per day and by provider/model (p50,
p95), speech time and audio-cache hits, error and fallback rates. Percentiles are nearest-rank
over latency bins (10 ms below 1 s, 100 ms below 10 s) counted in the database.

Latency is PaCo's, not a participant's: this page reads the turn rollups (paco.models.rollups),
which have no participant key, so only the date range applies to it."""
from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from paco.services.rollups import current_latency_bins, current_turn_days

from .. import figures
from ..filters import Filters
from ..model import Dashboard, Panel
from ..sql import frame, iso_days, on_days
from ..suppression import suppress

TITLE = "Latency"
MEASURES = {"first_token_ms": "first token", "first_audio_ms": "first audio", "total_ms": "whole turn",
            "tts_ms": "speech (TTS)"}


def build(conn, filters: Filters) -> Dashboard:
    k = filters.min_cell
    daily = suppress(per_day(conn, filters, ["first_token_ms", "first_audio_ms", "total_ms"]), k, ["turns"],
                     {"p50_ms": "turns", "p95_ms": "turns"})
    daily_plot = daily.melt(id_vars=["day", "measure"], value_vars=["p50_ms", "p95_ms"], var_name="stat")
    daily_plot["series"] = daily_plot["measure"] + " " + daily_plot["stat"].str[:3]
    providers = suppress(by_provider(conn, filters), k, ["turns"],
                         {"first_token_p50_ms": "turns", "first_token_p95_ms": "turns",
                          "total_p50_ms": "turns", "total_p95_ms": "turns"})
    speech = suppress(tts(conn, filters), k, ["turns"], {"p50_ms": "turns", "p95_ms": "turns",
                                                        "cache_hit_ratio": "turns"})
    faults = suppress(errors(conn, filters), k, ["turns", "failed", "fallback", "tts_errors"],
                      {"failed_rate": "turns", "fallback_rate": "turns", "tts_error_rate": "turns"})
    fault_plot = faults.melt(id_vars="day", value_vars=["failed_rate", "fallback_rate", "tts_error_rate"],
                             var_name="rate", value_name="value")
    return Dashboard("latency", TITLE, [
        Panel("per_day", "p50 and p95 per day (ms, from the question's arrival)", daily,
              figures.lines(daily_plot, "day", "value", "series", "ms")),
        Panel("providers", "By provider and model", providers,
              figures.bars(providers.assign(name=providers["provider"] + " " + providers["model"]), "name",
                           ["first_token_p50_ms", "first_token_p95_ms", "total_p50_ms", "total_p95_ms"],
                           y_title="ms")),
        Panel("tts", "Speech: TTS time and audio-cache hits per day", speech,
              figures.lines(speech, "day", "p95_ms", None, "TTS ms p95"),
              note="Cache hit ratio: sentences served from the audio cache over sentences spoken."),
        Panel("errors", "Errors and fallbacks per day", faults,
              figures.lines(fault_plot, "day", "value", "rate", "share of turns"),
              note="Failed: no answer. Fallback: the first provider failed and another answered. "
                   "TTS errors: at least one sentence could not be spoken."),
    ], intro="How fast PaCo answers and speaks, and how often something fails. Only the date range "
             "applies here: latency is PaCo's, not a cohort's or a participant status's.")


def _bins(conn, filters: Filters, measures: list[str], *keys: str) -> pd.DataFrame:
    """Latency bins summed over ``keys`` (of day, provider, model) and measure, in the range."""
    rows = current_latency_bins(conn.dialect.name)
    columns = [rows.c[k] for k in keys]
    table = frame(conn, sa.select(*columns, rows.c.measure, rows.c.bin, sa.func.sum(rows.c.n).label("n"))
                  .where(rows.c.measure.in_(measures), *on_days(rows.c.day, filters))
                  .group_by(*columns, rows.c.measure, rows.c.bin)).astype({"n": int, "bin": float})
    return iso_days(table, "day") if "day" in keys else table


def _summarise(bins: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Turns, p50 and p95 per ``keys`` (nearest rank over the bins: the smallest bin with at least
    that share of the turns at or below it)."""
    if bins.empty:
        return pd.DataFrame(columns=[*keys, "turns", "p50_ms", "p95_ms"])
    ordered = bins.sort_values([*keys, "bin"], ignore_index=True)
    groups = ordered.groupby(keys, sort=True)
    ordered["cumulative"] = groups["n"].cumsum()
    ordered["total"] = groups["n"].transform("sum")
    table = groups["n"].sum().rename("turns").reset_index()
    for q, name in ((0.5, "p50_ms"), (0.95, "p95_ms")):
        needed = -(-q * ordered["total"] // 1)  # ceil
        reached = ordered[ordered["cumulative"] >= needed].groupby(keys, sort=True)["bin"].first()
        table = table.merge(reached.rename(name).reset_index(), on=keys, how="left")
    table["turns"] = table["turns"].astype(int)
    return table[[*keys, "turns", "p50_ms", "p95_ms"]]


def per_day(conn, filters: Filters, names: list[str]) -> pd.DataFrame:
    bins = _bins(conn, filters, names, "day")
    table = _summarise(bins, ["day", "measure"])
    table["measure"] = table["measure"].map(MEASURES)
    return table[["day", "measure", "turns", "p50_ms", "p95_ms"]].sort_values(["day", "measure"], ignore_index=True)


def by_provider(conn, filters: Filters) -> pd.DataFrame:
    bins = _bins(conn, filters, ["first_token_ms", "total_ms"], "provider", "model")
    summary = _summarise(bins, ["provider", "model", "measure"])
    first = summary[summary["measure"] == "first_token_ms"].rename(
        columns={"p50_ms": "first_token_p50_ms", "p95_ms": "first_token_p95_ms"}).drop(columns=["measure", "turns"])
    whole = summary[summary["measure"] == "total_ms"].rename(
        columns={"p50_ms": "total_p50_ms", "p95_ms": "total_p95_ms"}).drop(columns="measure")
    table = first.merge(whole, on=["provider", "model"], how="outer").sort_values(["provider", "model"],
                                                                                 ignore_index=True)
    table["turns"] = table["turns"].fillna(0).astype(int)
    return table[["provider", "model", "turns", "first_token_p50_ms", "first_token_p95_ms", "total_p50_ms",
                  "total_p95_ms"]]


def _turn_counts(conn, filters: Filters, *counts: str) -> pd.DataFrame:
    rows = current_turn_days(conn.dialect.name)
    table = frame(conn, sa.select(rows.c.day, *(sa.func.sum(rows.c[c]).label(c) for c in counts))
                  .where(*on_days(rows.c.day, filters)).group_by(rows.c.day).order_by(rows.c.day))
    return iso_days(table.astype({c: int for c in counts}), "day")


def tts(conn, filters: Filters) -> pd.DataFrame:
    times = _summarise(_bins(conn, filters, ["tts_ms"], "day").drop(columns="measure"), ["day"])
    hits = _turn_counts(conn, filters, "tts_hits", "tts_sentences")
    table = times.merge(hits, on="day", how="left")
    table["cache_hit_ratio"] = (table["tts_hits"] / table["tts_sentences"].where(table["tts_sentences"] > 0)).round(3)
    return table[["day", "turns", "p50_ms", "p95_ms", "cache_hit_ratio"]]


def errors(conn, filters: Filters) -> pd.DataFrame:
    table = _turn_counts(conn, filters, "turns", "failed", "fallback", "tts_errors")
    for name in ("failed", "fallback", "tts_errors"):
        rate = "tts_error_rate" if name == "tts_errors" else f"{name}_rate"
        table[rate] = (table[name] / table["turns"]).round(4)
    return table
