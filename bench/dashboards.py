"""The investigator dashboards at study scale: every dashboard's server time over its filters.

A synthetic study (``paco.services.synth``, the same generator as ``flask demo synth``) of
10,000 participants and about a million messages is written once per engine and kept between
runs (``BENCH_DASHBOARDS_FRESH=1`` rebuilds it): SQLite in the temp folder, PostgreSQL as the
database ``paco_bench_dash_<participants>_<days>``. Each dashboard is then built (SQL, pandas,
Plotly, as the admin page does) under several filter sets, a few times each; the figure is the
p95 over all of those builds.
"""
from __future__ import annotations

import os
import tempfile
import time
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from .harness import LOCAL_POSTGRES
from .stats import percentile


def _url(engine: str, participants: int, days: int) -> tuple[str, bool]:
    """The kept database for this size, and whether it already holds the study."""
    fresh = os.environ.get("BENCH_DASHBOARDS_FRESH") == "1"
    if engine == "sqlite":
        path = os.path.join(tempfile.gettempdir(), f"paco-bench-dash-{participants}-{days}.db")
        if fresh and os.path.exists(path):
            os.remove(path)
        return f"sqlite:///{path}", os.path.exists(path)
    name = f"paco_bench_dash_{participants}_{days}"
    admin_url = os.environ.get("TEST_DATABASE_URL", LOCAL_POSTGRES)
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if fresh:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        exists = conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
        if not exists:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False), bool(exists)


def filter_sets(conn):
    """What investigators choose: the default 90 days, one cohort, active only, the whole study, a month."""
    from analytics import Filters
    from paco.models import Cohort, Message

    first = conn.execute(sa.select(sa.func.min(Message.created_at))).scalar()
    cohort = conn.execute(sa.select(Cohort.id).order_by(Cohort.id)).scalars().first()
    last = Filters().last_day
    whole = first.date() if hasattr(first, "date") else None
    return {
        "default (90 days)": Filters(),
        "one cohort": Filters(cohorts=(cohort,)),
        "active only": Filters(statuses=("active",)),
        "whole study": Filters(start=whole),
        "last 30 days, one cohort": Filters(cohorts=(cohort,), start=last - timedelta(days=29)),
    }


def study(engine: str, participants: int = 10_000, days: int = 180) -> str:
    """The URL of the kept synthetic study for this engine and size, written first if missing."""
    os.environ.setdefault("SECRET_KEY", "bench-secret-key-that-is-long-enough-for-hs256-0123456789")
    from flask_migrate import upgrade

    from paco import create_app
    from paco.extensions import db
    from paco.services.synth import synthesize

    url, ready = _url(engine, participants, days)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        if not ready or not db.session.execute(sa.text("SELECT count(*) FROM research_ids")).scalar():
            t0 = time.perf_counter()
            synthesize(db.engine, participants, days, seed=1)
            print(f"bench: {engine} study written in {time.perf_counter() - t0:.0f} s")
            if engine == "postgresql":
                db.session.execute(sa.text("ANALYZE"))  # fresh bulk-loaded tables have no statistics yet
                db.session.commit()
        db.engine.dispose()
    return url


def run(participants: int = 10_000, days: int = 180, repeats: int = 3, engines=("sqlite", "postgresql")) -> dict:
    os.environ.setdefault("SECRET_KEY", "bench-secret-key-that-is-long-enough-for-hs256-0123456789")
    from analytics import DASHBOARDS, build, figures
    from paco import create_app
    from paco.extensions import db
    from paco.services import rollups

    out = {"participants": participants, "days": days, "engines": {}}
    for engine in engines:
        app = create_app({"SQLALCHEMY_DATABASE_URI": study(engine, participants, days)})
        with app.app_context():
            t0 = time.perf_counter()
            rolled = rollups.refresh(db.engine, chunk=2**31 - 1)
            refresh_s = time.perf_counter() - t0
            print(f"bench dashboards: {engine} rollups refreshed in {refresh_s:.1f} s ({rolled})")
            counts = {t: db.session.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar()
                      for t in ("research_ids", "messages", "turn_metrics", "adherence_records")}
            timings: dict[str, list[float]] = {name: [] for name in DASHBOARDS}
            with db.engine.connect() as conn:
                sets = filter_sets(conn)
                for name in DASHBOARDS:
                    for filters in sets.values():
                        for _ in range(repeats):
                            t0 = time.perf_counter()
                            dashboard = build(name, conn, filters)
                            for panel in dashboard.panels:  # the page renders every figure as JSON
                                if panel.figure is not None:
                                    figures.to_json(panel.figure)
                            timings[name].append((time.perf_counter() - t0) * 1000)
            db.engine.dispose()
        out["engines"][engine] = {"counts": counts, "filters": list(sets), "refresh_s": round(refresh_s, 1),
                                  "ms": {n: {"p50": percentile(v, 50), "p95": percentile(v, 95), "n": len(v)}
                                         for n, v in timings.items()}}
    return out
