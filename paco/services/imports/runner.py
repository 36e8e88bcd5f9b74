"""The one way a file is imported, whatever it holds (docs/data-managers.md).

Read the whole file into a staging table, checking each row; run the checks that need the
whole file; if anything is wrong, report every problem and write nothing. Otherwise count what
would be created, updated and left unchanged, and (unless it is a dry run) write it all in ONE
transaction together with its batch row and its audit event. Running the same file again finds
everything unchanged and writes nothing.

What differs between research IDs and adherence records is a ``Spec`` (``research_ids.py``,
``adherence.py``): columns, one row's checks, the whole-file checks, the counts and the writes.
"""
from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TextIO

from sqlalchemy import Column, Integer, case, func, select

from ...extensions import db
from ...models import ImportBatch, utcnow
from ...validation import normalise_research_id, research_id_problem
from .. import audit
from .cells import is_blank, shown, text
from .reading import FileProblem, Table
from .staging import PROBLEM_HEAD, ProblemLog, Staging, write_problems

CHUNK_ROWS = 20_000
PROGRESS_EVERY = 2_000  # rows between progress calls (the admin page yields to other greenlets there)


@dataclass(frozen=True)
class Problem:
    line: int | None
    column: str
    value: str
    reason: str
    code: str

    def __str__(self):
        where = f"line {self.line}" if self.line is not None else "file"
        cell = f", {self.column} {self.value!r}" if self.column else ""
        return f"{where}{cell}: {self.reason} [{self.code}]"


@dataclass
class ImportReport:
    """What an import found and did; ``ok`` only when the file was (or, dry, would be) imported whole."""

    noun: str
    file_name: str
    sha256: str
    dry_run: bool
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    rows: int = 0  # rows read, blank ones not counted
    problem_count: int = 0
    problems: list[Problem] = field(default_factory=list)  # the first PROBLEM_HEAD, by line
    unknown_columns: list[str] = field(default_factory=list)
    batch_id: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    @property
    def counts_line(self) -> str:
        return (f"{self.noun}: {self.created} created, {self.updated} updated, "
                f"{self.unchanged} unchanged, {self.skipped} skipped")


@dataclass
class Columns:
    """A kind's columns: each name with the headers that mean it (matched case-insensitively,
    spaces and dashes read as underscores)."""

    required: dict[str, tuple[str, ...]]
    optional: dict[str, tuple[str, ...]]

    def all(self) -> dict[str, tuple[str, ...]]:
        return {**self.required, **self.optional}


def header_key(cell) -> str:
    return str(cell or "").strip().lstrip("\ufeff").strip().lower().replace(" ", "_").replace("-", "_")


def map_header(header: list, columns: Columns) -> tuple[dict[str, int], list[str], list[Problem]]:
    """Which file column holds each known column; unknown headers; problems (missing, twice)."""
    found: dict[str, int] = {}
    unknown, problems = [], []
    alias_to_name = {alias: name for name, aliases in columns.all().items() for alias in (name, *aliases)}
    for index, cell in enumerate(header):
        key = header_key(cell)
        if not key:
            continue
        name = alias_to_name.get(key)
        if name is None:
            unknown.append(str(cell).strip())
        elif name in found:
            problems.append(Problem(1, str(cell).strip(), "", f"a second column for {name} "
                                    f"(column {found[name] + 1} is {header[found[name]]!r}); keep one",
                                    "duplicate_column"))
        else:
            found[name] = index
    for name, aliases in columns.required.items():
        if name not in found:
            problems.append(Problem(1, name, "", "required column missing: the header line needs "
                                    f"{' or '.join((name, *aliases))}", "missing_column"))
    return found, unknown, problems


class Spec:
    """One kind of import. Subclasses fill these in; ``runner.run`` calls them in order."""

    noun = "rows"
    kind = ""
    columns: Columns
    key: list[str] = []

    def staging_columns(self) -> list[Column]:
        raise NotImplementedError

    def parse(self, cells: dict, add_problem: Callable[[str, object, str, str], None]) -> tuple | None:
        """One row as the staging tuple (without its line number; a bad cell as None, after
        add_problem(...)), or None when the row cannot be staged at all."""
        raise NotImplementedError

    def after_rows(self, log: ProblemLog, line_count: int) -> None:
        """Whole-file checks that need no database (e.g. a scale that fits no value)."""

    def check(self, staging: Staging, log: ProblemLog) -> None:
        """Whole-file checks in SQL: add each problem's rows to ``log``."""

    # Where a staged row goes: the table, the row of it that the staged row is (at most one:
    # the key is unique there), and whether the staged row would change it.
    table = None

    def match(self, c):
        raise NotImplementedError

    def changed(self, c):
        raise NotImplementedError

    def counts(self, staging: Staging) -> tuple[int, int, int]:
        """(created, updated, unchanged), in one pass over the staged rows."""
        target = self.table
        pk = target.primary_key.columns.values()[0]
        c = staging.c
        total, existing, updated = staging.conn.execute(
            select(func.count(), func.count(pk),
                   func.coalesce(func.sum(case((pk.is_not(None) & self.changed(c), 1), else_=0)), 0))
            .select_from(staging.table.outerjoin(target, self.match(c)))).one()
        return total - existing, updated, existing - updated

    @staticmethod
    def research_id(row: dict, problem) -> str | None:
        """The row's research ID, normalised, or None after reporting why it is malformed."""
        research_id = normalise_research_id(str(row["research_id"] or ""))
        reason = research_id_problem(research_id)
        if reason:
            problem("research_id", row["research_id"], reason, "invalid_research_id")
            return None
        return research_id

    @staticmethod
    def notes(row: dict, problem) -> str | None:
        """The notes cell; None when the file has no notes column (existing notes are then kept)."""
        if "notes" not in row:
            return None
        notes, reason = text(row["notes"])
        if reason:
            problem("notes", row["notes"], reason, "invalid_text")
        return notes

    def write(self, staging: Staging, batch_id: str, now: datetime) -> None:
        raise NotImplementedError

    def target(self) -> str:
        return ""

    def audit_detail(self) -> dict:
        return {}

    def after_commit(self) -> None:
        """What follows a committed write (e.g. closing the sockets of withdrawn IDs)."""


def new_batch_id(now: datetime) -> str:
    return f"imp-{now.astimezone(timezone.utc):%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


def run(spec: Spec, open_rows: Callable[[], Table], file_name: str, *, actor: str, ip: str | None = None,
        dry_run: bool = False, report_to: TextIO | None = None,
        progress: Callable[[int, int], None] | None = None) -> ImportReport:
    """Import what ``open_rows()`` reads (a file, or rows made in memory) as ``spec`` says."""
    report = ImportReport(spec.noun, file_name, "", dry_run)
    session = db.session
    session.rollback()  # start clean: the import is one transaction of its own
    staging = log = None
    try:
        table = open_rows()
        report.sha256 = table.sha256
        positions, report.unknown_columns, header_problems = map_header(table.header, spec.columns)
        if header_problems:
            return _refused(report, header_problems, report_to)
        staging = Staging(session, "_import_rows", [Column("line", Integer), *spec.staging_columns()], spec.key)
        log = ProblemLog(session)
        _load(spec, table, positions, staging, log, report, progress)
        spec.after_rows(log, report.rows)
        staging.index()
        spec.check(staging, log)
        problem_count = log.count()
        if problem_count:
            report.problem_count = problem_count
            report.problems = [Problem(*row) for row in log.head(PROBLEM_HEAD)]
            if report_to is not None:
                log.write_csv(report_to)
            session.rollback()
            return report
        report.created, report.updated, report.unchanged = spec.counts(staging)
        if dry_run or not (report.created or report.updated):
            session.rollback()
            return report
        now = utcnow()
        report.batch_id = new_batch_id(now)
        spec.write(staging, report.batch_id, now)
        session.add(ImportBatch(id=report.batch_id, kind=spec.kind, file_name=file_name[:255],
                                sha256=table.sha256, actor=actor[:254], target=spec.target()[:255],
                                created=report.created, updated=report.updated, unchanged=report.unchanged,
                                skipped=report.skipped, created_at=now))
        audit.record(actor, f"import.{spec.kind}", report.batch_id, {
            "file": file_name, "sha256": table.sha256, "batch": report.batch_id,
            "created": report.created, "updated": report.updated, "unchanged": report.unchanged,
            "skipped": report.skipped, "unknown_columns": report.unknown_columns, **spec.audit_detail(),
        }, ip)
        session.commit()
    except FileProblem as err:
        session.rollback()
        return _refused(report, [Problem(err.line, "", "", err.message, err.code)], report_to)
    except BaseException:
        session.rollback()
        raise
    finally:
        for temp in (log, staging):
            if temp is not None:
                temp.drop()
    spec.after_commit()
    return report


def _refused(report: ImportReport, problems: list[Problem], report_to: TextIO | None) -> ImportReport:
    """A file refused before its rows were staged (its header, or the file itself)."""
    report.problem_count = len(problems)
    report.problems = problems
    if report_to is not None:
        write_problems([(p.line, p.column, p.value, p.reason, p.code) for p in problems], report_to)
    return report


def _load(spec: Spec, table: Table, positions: dict[str, int], staging: Staging, log: ProblemLog,
          report: ImportReport, progress) -> None:
    width = len(table.header)
    chunk: list[tuple] = []
    rows = 0
    names = list(positions.items())
    for line, cells in table.rows:
        if all(is_blank(v) for v in cells):
            report.skipped += 1
            continue
        if len(cells) > width and any(not is_blank(v) for v in cells[width:]):
            log.add(line, "", shown(cells[width]), f"{len(cells)} values but the header has {width} columns "
                    "(a separator inside a value that is not quoted?)", "extra_values")
            continue
        values = {name: (cells[i] if i < len(cells) else None) for name, i in names}
        current_line = line

        def add_problem(column: str, value, reason: str, code: str, _line=current_line) -> None:
            log.add(_line, column, shown(value), reason, code)

        parsed = spec.parse(values, add_problem)
        rows += 1
        if parsed is not None:
            chunk.append((line, *parsed))
        if len(chunk) >= CHUNK_ROWS:
            staging.load(chunk)
            chunk = []
        if progress is not None and rows % PROGRESS_EVERY == 0:
            progress(*table.progress())
    staging.load(chunk)
    if progress is not None:
        progress(*table.progress())
    report.rows = rows

