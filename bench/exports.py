"""Full dataset exports at study scale: time and memory per format.

Each export runs in a process of its own (``python -m bench.exports ENGINE_URL DATASET FORMAT``)
that reports its resident memory once the app, the database connection and every writer's library
are loaded ("idle"), and its peak (``ru_maxrss``) after the bundle is written: the growth is what
the export itself cost. The study is the dashboards benchmark's kept one (bench/dashboards.py).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date

from .harness import peak_rss_mb


def child(url: str, dataset: str, fmt: str) -> dict:
    os.environ.setdefault("SECRET_KEY", "bench-secret-key-that-is-long-enough-for-hs256-0123456789")
    import openpyxl  # noqa: F401 - every writer's library loaded before "idle" is read
    import pyarrow.parquet  # noqa: F401

    from analytics import Filters
    from analytics.exports import export
    from paco import create_app
    from paco.errors import PacoError
    from paco.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context(), tempfile.TemporaryDirectory() as work, db.engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1")
        idle = peak_rss_mb()
        t0 = time.perf_counter()
        try:
            everything = Filters(start=date(2000, 1, 1))  # the whole study, not the default 90 days
            bundle = export(conn, dataset, fmt, os.path.join(work, "out.zip"), everything, "bench@paco")
            rows, refused, size = bundle.rows, None, os.path.getsize(bundle.path)
        except PacoError as err:
            rows, refused, size = 0, err.code, 0
        seconds = time.perf_counter() - t0
    peak = peak_rss_mb()
    return {"rows": rows, "seconds": round(seconds, 1), "idle_mb": round(idle), "peak_mb": round(peak),
            "growth_mb": round(peak - idle), "zip_mb": round(size / 2**20, 1), "refused": refused}


def run(participants: int = 10_000, days: int = 180, engines=("sqlite", "postgresql"), dataset: str = "messages",
        formats=("csv", "xlsx", "parquet", "dta")) -> dict:
    from .dashboards import study

    out = {"dataset": dataset, "engines": {}}
    for engine in engines:
        url = study(engine, participants, days)
        out["engines"][engine] = {}
        for fmt in formats:
            done = subprocess.run([sys.executable, "-m", "bench.exports", url, dataset, fmt], capture_output=True,
                                  text=True, check=True)
            out["engines"][engine][fmt] = result = json.loads(done.stdout.strip().splitlines()[-1])
            print(f"bench exports: {engine} {dataset}.{fmt}: {result}", flush=True)
    return out


if __name__ == "__main__":
    print(json.dumps(child(*sys.argv[1:4])))
