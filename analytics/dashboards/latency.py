"""Latency: time to first token, first audio and whole turn per day and by provider/model (p50,
p95), speech time and audio-cache hits, error and fallback rates. Percentiles are nearest-rank
over latency bins (10 ms below 1 s, 100 ms below 10 s) counted in the database."""
from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from paco.models import TurnMetrics

from .. import figures
from ..filters import Filters
from ..model import Dashboard, Panel
from ..sql import (
    binned_percentile,
    count_if,
    day,
    frame,
    from_messages,
    in_range,
    messages,
    ms_bin,
    with_cohort,
)
from ..suppression import suppress

TITLE = "Latency"
metrics = TurnMetrics.__table__
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
    ], intro="How fast PaCo answers and speaks, and how often something fails.")


def _turns(*columns) -> sa.Select:
    return from_messages(*columns).join(metrics, metrics.c.message_id == messages.c.id)


def _bins(conn, filters: Filters, column, *keys) -> pd.DataFrame:
    dialect = conn.dialect.name
    bucket = ms_bin(column, dialect).label("bin")
    return frame(conn, with_cohort(_turns(*keys, bucket, sa.func.count().label("n")), filters)
                 .where(column.is_not(None), *in_range(metrics.c.created_at, filters))
                 .group_by(*keys, bucket))


def _summarise(bins: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    rows = []
    for key, part in bins.groupby(keys, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        rows.append({**dict(zip(keys, key)), "turns": int(part["n"].sum()),
                     "p50_ms": binned_percentile(part, 0.5), "p95_ms": binned_percentile(part, 0.95)})
    return pd.DataFrame(rows, columns=[*keys, "turns", "p50_ms", "p95_ms"])


def per_day(conn, filters: Filters, names: list[str]) -> pd.DataFrame:
    bucket = day(metrics.c.created_at, conn.dialect.name).label("day")
    parts = []
    for name in names:
        summary = _summarise(_bins(conn, filters, metrics.c[name], bucket), ["day"])
        parts.append(summary.assign(measure=MEASURES[name]))
    table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    return table[["day", "measure", "turns", "p50_ms", "p95_ms"]].sort_values(["day", "measure"], ignore_index=True)


def by_provider(conn, filters: Filters) -> pd.DataFrame:
    provider = sa.func.coalesce(messages.c.provider, "-").label("provider")
    model = sa.func.coalesce(messages.c.model, "-").label("model")
    first = _summarise(_bins(conn, filters, metrics.c.first_token_ms, provider, model), ["provider", "model"])
    whole = _summarise(_bins(conn, filters, metrics.c.total_ms, provider, model), ["provider", "model"])
    table = first.rename(columns={"p50_ms": "first_token_p50_ms", "p95_ms": "first_token_p95_ms"}).drop(
        columns="turns").merge(whole.rename(columns={"p50_ms": "total_p50_ms", "p95_ms": "total_p95_ms"}),
                               on=["provider", "model"], how="outer")
    table["turns"] = table["turns"].fillna(0).astype(int)
    return table[["provider", "model", "turns", "first_token_p50_ms", "first_token_p95_ms", "total_p50_ms",
                  "total_p95_ms"]]


def tts(conn, filters: Filters) -> pd.DataFrame:
    bucket = day(metrics.c.created_at, conn.dialect.name).label("day")
    times = _summarise(_bins(conn, filters, metrics.c.tts_ms, bucket), ["day"])
    hits = frame(conn, with_cohort(_turns(bucket, sa.func.sum(metrics.c.audio_cache_hits).label("hits"),
                                          sa.func.sum(metrics.c.sentences).label("sentences")), filters)
                 .where(metrics.c.tts_ms.is_not(None), *in_range(metrics.c.created_at, filters)).group_by(bucket))
    table = times.merge(hits, on="day", how="left")
    table["cache_hit_ratio"] = (table["hits"] / table["sentences"].where(table["sentences"] > 0)).round(3)
    return table[["day", "turns", "p50_ms", "p95_ms", "cache_hit_ratio"]]


def errors(conn, filters: Filters) -> pd.DataFrame:
    bucket = day(metrics.c.created_at, conn.dialect.name).label("day")
    table = frame(conn, with_cohort(_turns(
        bucket, sa.func.count().label("turns"), count_if(messages.c.status == "failed").label("failed"),
        count_if(sa.and_(metrics.c.provider_errors > 0, messages.c.status != "failed")).label("fallback"),
        count_if(metrics.c.tts_errors > 0).label("tts_errors")), filters)
        .where(*in_range(metrics.c.created_at, filters)).group_by(bucket).order_by(bucket))
    for name in ("failed", "fallback", "tts_errors"):
        table[name] = table[name].astype(int)
        rate = "tts_error_rate" if name == "tts_errors" else f"{name}_rate"
        table[rate] = (table[name] / table["turns"]).round(4)
    return table
