"""The importers under hostile files: any bytes, encodings, separators, quotes, formulas, huge cells.

Whatever the file, an import ends in a report: either the file was imported whole, or every
problem has a line (or "file") and a documented code and nothing was written. No exception
escapes, and a refused file leaves the database exactly as it was.
"""
from __future__ import annotations

import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paco.extensions import db
from paco.models import AdherenceRecord, Cohort, ImportBatch, ResearchID
from paco.services import imports

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "data-managers.md"
PROBLEM_CODES = set(re.findall(r"`([a-z_]+)`", GUIDE.read_text().split("## Problem and refusal codes")[1]))
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                        HealthCheck.too_slow])

HEADERS = ["research_id", "Record ID", "study-id", "status", "enrolled_at", "notes", "date", "value", "pdc",
           "medication", "=cmd|' /C calc'!A0", "", "research_id"]
cell = st.one_of(
    st.sampled_from(["R1", "r2", "PAD-7KQ4-M9XF", "active", "paused", "gone", "2026-01-02", "2999-01-01",
                     "03/04/2026", "0.5", "85", "85%", "0,5", "-1", "nan", "inf", "1e309", "=1+1", "@SUM(A1)",
                     "\"quoted, with comma\"", "\"never closed", "x" * 3000, "", " ", "\t"]),
    st.text(max_size=40),
)


@st.composite
def csv_files(draw) -> bytes:
    sep = draw(st.sampled_from([",", ";", "\t", "|"]))
    header = draw(st.lists(st.sampled_from(HEADERS), min_size=0, max_size=5))
    rows = draw(st.lists(st.lists(cell, max_size=6), max_size=12))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = newline.join(sep.join(r) for r in [header, *rows])
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "latin-1", "utf-16"]))
    data = text.encode(encoding, errors="replace")
    if draw(st.booleans()):
        data += draw(st.binary(max_size=30))
    return data


def state() -> tuple:
    return tuple(db.session.execute(db.select(db.func.count()).select_from(t)).scalar()
                 for t in (ResearchID, AdherenceRecord, ImportBatch, Cohort))


def check(report: imports.ImportReport, before: tuple) -> None:
    if report.ok:
        return
    assert report.problems and report.problem_count >= len(report.problems)
    for problem in report.problems:
        assert problem.code in PROBLEM_CODES, problem
        assert problem.line is None or problem.line >= 1
    assert state() == before, "a refused file changed the database"


@FUZZ
@given(data=csv_files(), kind=st.sampled_from(["ids", "adherence"]), scale=st.sampled_from(imports.SCALES))
def test_any_file_ends_in_a_report_and_a_refusal_writes_nothing(app, tmp_path_factory, data, kind, scale):
    if db.session.execute(db.select(Cohort).where(Cohort.name == "F")).first() is None:
        db.session.add(Cohort(name="F"))
        db.session.add(ResearchID(research_id="R1", status="active"))
        db.session.commit()
    path = tmp_path_factory.mktemp("fuzz") / "file.csv"
    path.write_bytes(data)
    before = state()
    if kind == "ids":
        report = imports.import_research_ids(str(path), "F", actor="fuzz", dry_run=False)
    else:
        report = imports.import_adherence(str(path), "pill_count", actor="fuzz", scale=scale)
    check(report, before)
