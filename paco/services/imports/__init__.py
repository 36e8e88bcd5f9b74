"""Bulk imports by data managers: research IDs and adherence data, from CSV or XLSX files.

One service for the CLI (``flask ids ...``, ``flask adherence import``) and the admin site's
Import page; docs/data-managers.md is the user's guide. Every import checks the whole file first
and writes all of it or nothing, in one transaction with its batch and audit event.
"""
from __future__ import annotations

import hashlib

from ...errors import InvalidInput
from .. import research_id_codes
from .adherence import SCALES, AdherenceSpec
from .batches import recent_batches, undo_batch
from .reading import FileProblem, open_table, rows_table
from .research_ids import ResearchIDSpec, cohort_named, find_cohort
from .runner import ImportReport, Problem, run

GENERATE_MAX = 100_000

__all__ = ["SCALES", "FileProblem", "ImportReport", "Problem", "cohort_named", "find_cohort", "generate_research_ids",
           "import_adherence", "import_research_ids", "open_table", "recent_batches", "undo_batch"]


def _open(path: str, file_name: str | None, sheet: str | None):
    try:
        return open_table(path, file_name, sheet), None
    except FileProblem as err:
        return None, err


def _refused(noun: str, file_name: str, err: FileProblem, dry_run: bool) -> ImportReport:
    report = ImportReport(noun, file_name, "", dry_run, problem_count=1)
    report.problems = [Problem(err.line, "", "", err.message, err.code)]
    return report


def import_research_ids(path: str, cohort: str, *, actor: str, ip: str | None = None, file_name: str | None = None,
                        create_cohort: bool = False, dry_run: bool = False, sheet: str | None = None,
                        report_to=None, progress=None) -> ImportReport:
    spec = ResearchIDSpec(cohort, create_cohort)
    table, err = _open(path, file_name, sheet)
    if err is not None:
        return _refused(spec.noun, file_name or path, err, dry_run)
    return run(spec, table, actor=actor, ip=ip, dry_run=dry_run, report_to=report_to, progress=progress)


def import_adherence(path: str, measure: str, *, actor: str, ip: str | None = None, file_name: str | None = None,
                     source: str = "", scale: str = "fraction", dry_run: bool = False, sheet: str | None = None,
                     report_to=None, progress=None) -> ImportReport:
    spec = AdherenceSpec(measure, source, scale)
    table, err = _open(path, file_name, sheet)
    if err is not None:
        return _refused(spec.noun, file_name or path, err, dry_run)
    return run(spec, table, actor=actor, ip=ip, dry_run=dry_run, report_to=report_to, progress=progress)


def generate_research_ids(cohort: str, count: int, *, actor: str, prefix: str = "", create_cohort: bool = False,
                          ip: str | None = None) -> tuple[ImportReport, list[str]]:
    """``count`` new IDs (research_id_codes) added to ``cohort`` as one batch, like an imported file."""
    if not 1 <= count <= GENERATE_MAX:
        raise InvalidInput("invalid_count", f"The count must be from 1 to {GENERATE_MAX}.")
    prefix = (prefix or "").strip().upper()
    problem = research_id_codes.prefix_problem(prefix)
    if problem:
        raise InvalidInput("invalid_prefix", problem)
    spec = ResearchIDSpec(cohort, create_cohort)
    codes: set[str] = set()
    while len(codes) < count:  # collisions among themselves are rare; with PaCo's own, checked below
        codes.add(research_id_codes.new_code(prefix))
    ids = sorted(codes)
    digest = hashlib.sha256("\n".join(ids).encode()).hexdigest()
    table = rows_table(f"flask ids generate ({count})", digest, ["research_id"], [[i] for i in ids])
    report = run(spec, table, actor=actor, ip=ip)
    return report, ids
