"""Bulk imports at study scale: 100,000 research IDs and 1,000,000 adherence rows, SQLite and PostgreSQL.

Each engine gets a fresh database built by the migrations. Figures: wall time of a first import,
of a dry run and of a re-run of the same file (a no-op), rows per second, and the process's peak
memory growth (files are streamed in chunks, so it should not grow with the file). The same run
measures the alternative design the issue warns against, one ORM object per row, on a slice.
"""
from __future__ import annotations

import os
import random
import tempfile
import time
import uuid
from datetime import date, timedelta

import sqlalchemy as sa

from tests.support.databases import create_database, drop_database

from .harness import LOCAL_POSTGRES, peak_rss_mb


def _files(workdir: str, ids: int, participants: int, days: int) -> tuple[str, str]:
    id_path = os.path.join(workdir, "ids.csv")
    with open(id_path, "w") as f:
        f.write("research_id,status,enrolled_at,notes\n")
        for i in range(ids):
            f.write(f"B-{i:06d},active,2026-01-{1 + i % 28:02d},\n")
    adh_path = os.path.join(workdir, "adherence.csv")
    rng = random.Random(7)
    start = date(2026, 1, 1)
    with open(adh_path, "w") as f:
        f.write("research_id,date,value\n")
        for i in range(participants):
            for d in range(days):
                f.write(f"B-{i:06d},{start + timedelta(days=d)},{rng.randint(0, 100)}\n")
    return id_path, adh_path


def _timed(fn):
    before = peak_rss_mb()
    t0 = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - t0, max(0.0, peak_rss_mb() - before)


def _orm_per_row(n: int) -> float:
    """The design the issue rules out: one ORM object per row, one commit (rows per second)."""
    from paco.extensions import db
    from paco.models import Cohort, ResearchID, utcnow

    cohort = Cohort(name=f"orm-{uuid.uuid4().hex[:6]}")
    db.session.add(cohort)
    db.session.flush()
    t0 = time.perf_counter()
    for i in range(n):
        rid = f"ORM-{i:06d}"
        if db.session.execute(sa.select(ResearchID.id).where(ResearchID.research_id == rid)).first() is None:
            db.session.add(ResearchID(research_id=rid, cohort_id=cohort.id, status="active", enrolled_at=utcnow()))
    db.session.commit()
    return n / (time.perf_counter() - t0)


def run(ids: int = 100_000, participants: int = 10_000, days: int = 100, orm_slice: int = 5_000,
        engines: tuple[str, ...] = ("sqlite", "postgresql")) -> dict:
    os.environ.setdefault("SECRET_KEY", "bench-secret-key-that-is-long-enough-for-hs256-0123456789")
    from flask_migrate import upgrade

    from paco import create_app
    from paco.services import imports

    workdir = tempfile.mkdtemp(prefix="paco-bench-imports-")
    id_path, adh_path = _files(workdir, ids, participants, days)
    sizes = {"ids_mb": os.path.getsize(id_path) / 1e6, "adherence_mb": os.path.getsize(adh_path) / 1e6}
    out = {"rows": {"ids": ids, "adherence": participants * days}, **sizes, "engines": {}}
    os.environ.setdefault("TEST_DATABASE_URL", LOCAL_POSTGRES)
    for engine in engines:
        url = create_database(engine, workdir)
        try:
            app = create_app({"SQLALCHEMY_DATABASE_URI": url,
                              "PACO_AUDIT_ANCHOR_FILE": os.path.join(workdir, "a.jsonl")})
            with app.app_context():
                upgrade()
                fig = {}
                r, fig["ids_s"], fig["ids_rss_mb"] = _timed(lambda: imports.import_research_ids(
                    id_path, "bench", actor="bench", create_cohort=True))
                assert r.ok and r.created == ids, r.problems[:3]
                r, fig["ids_rerun_s"], _ = _timed(lambda: imports.import_research_ids(id_path, "bench", actor="bench"))
                assert r.unchanged == ids
                r, fig["adherence_dry_s"], _ = _timed(lambda: imports.import_adherence(
                    adh_path, "pill_count", actor="bench", scale="percent", dry_run=True))
                assert r.ok and r.created == participants * days, r.problems[:3]
                r, fig["adherence_s"], fig["adherence_rss_mb"] = _timed(lambda: imports.import_adherence(
                    adh_path, "pill_count", actor="bench", scale="percent"))
                assert r.created == participants * days
                r, fig["adherence_rerun_s"], _ = _timed(lambda: imports.import_adherence(
                    adh_path, "pill_count", actor="bench", scale="percent"))
                assert r.unchanged == participants * days
                fig["bulk_ids_per_s"] = ids / fig["ids_s"]
                fig["orm_ids_per_s"] = _orm_per_row(orm_slice)
                fig["peak_rss_mb"] = peak_rss_mb()
            from paco.extensions import db
            with app.app_context():
                db.engine.dispose()
        finally:
            drop_database(url)
        out["engines"][engine] = fig
    return out
