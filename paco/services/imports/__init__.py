"""Bulk imports by data managers: research IDs and adherence data, from CSV or XLSX files.

One service for the CLI (``flask ids ...``, ``flask adherence import``) and the admin site's
Import page; docs/data-managers.md is the user's guide. Every import checks the whole file first
and writes all of it or nothing, in one transaction with its batch and audit event.
"""
from __future__ import annotations

import hashlib
import os

from ...errors import InvalidInput
from .. import research_id_codes
from .adherence import SCALES, AdherenceSpec
from .batches import recent_batches, undo_batch
from .reading import FileProblem, open_table, rows_table
from .research_ids import ResearchIDSpec, cohort_named
from .runner import ImportReport, Problem, run

GENERATE_MAX = 100_000

__all__ = ["SCALES", "FileProblem", "ImportReport", "Problem", "cohort_named", "generate_research_ids",
           "import_adherence", "import_research_ids", "open_table", "recent_batches", "undo_batch"]


def import_research_ids(path: str, cohort: str, *, actor: str, ip: str | None = None, file_name: str | None = None,
                        create_cohort: bool = False, dry_run: bool = False, sheet: str | None = None,
                        report_to=None, progress=None) -> ImportReport:
    return run(ResearchIDSpec(cohort, create_cohort), lambda: open_table(path, file_name, sheet),
               file_name or os.path.basename(path), actor=actor, ip=ip, dry_run=dry_run, report_to=report_to,
               progress=progress)


def import_adherence(path: str, measure: str, *, actor: str, ip: str | None = None, file_name: str | None = None,
                     source: str = "", scale: str = "fraction", dry_run: bool = False, sheet: str | None = None,
                     report_to=None, progress=None) -> ImportReport:
    return run(AdherenceSpec(measure, source, scale), lambda: open_table(path, file_name, sheet),
               file_name or os.path.basename(path), actor=actor, ip=ip, dry_run=dry_run, report_to=report_to,
               progress=progress)


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
    name = f"flask ids generate ({count})"
    table = rows_table(name, digest, ["research_id"], [[i] for i in ids])
    report = run(spec, lambda: table, name, actor=actor, ip=ip)
    return report, ids
