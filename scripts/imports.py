"""What ``flask ids import`` and ``flask adherence import`` share: progress, and the report as printed."""
from __future__ import annotations

import contextlib
import sys

import click

from paco.services import imports
from paco.services.imports import ImportReport
from paco.services.imports.staging import ProblemLog

from .cli import acting_staff

# Files this large (bytes) get a progress bar at a terminal, or a line per step elsewhere.
PROGRESS_FROM_BYTES = 256 * 1024
PRINTED_PROBLEMS = 50


def import_options(command):
    """The options every ``... import`` command takes besides its own."""
    for option in reversed([
        click.option("--dry-run", is_flag=True, help="Check the whole file and report; write nothing."),
        click.option("--report", "report_path", type=click.Path(dir_okay=False, writable=True),
                     help="Write every problem to this CSV file (line, column, value, reason, code)."),
        click.option("--sheet", help="XLSX: the sheet to read (default: the first)."),
        click.option("--undo", "undo_batch", metavar="BATCH",
                     help="Remove what batch BATCH created (instead of importing)."),
    ]):
        command = option(command)
    return command


def run_import(importer, file, undo_batch, as_email, report_path, required: str, **options) -> None:
    """``--undo BATCH``, or ``importer(file, ...)`` (an import service call) with the actor, the
    report file and a progress display; then the outcome printed, and exit 1 unless imported whole."""
    if undo_batch is not None:
        batch, removed = imports.undo_batch(undo_batch, acting_staff(as_email))
        noun = "research IDs" if batch.kind == "research_ids" else "adherence records"
        click.echo(f"Batch {batch.id} undone: {removed} {noun} removed.")
        return
    wanted = options[required.lstrip("-")]
    if not file or not wanted:
        raise click.UsageError(f"FILE and {required} are required (or --undo BATCH).")
    actor = acting_staff(as_email)
    with report_file(report_path) as report_to, progress_for(file) as progress:
        report = importer(file, actor=actor, report_to=report_to, progress=progress, **options)
    finish(report, report_path)


@contextlib.contextmanager
def progress_for(path: str):
    """A progress callback for the import service: click's bar on a terminal, plain lines on stderr otherwise."""
    import os

    size = os.path.getsize(path)
    if size < PROGRESS_FROM_BYTES:
        yield None
        return
    if sys.stderr.isatty():
        with click.progressbar(length=size, label="Reading", file=sys.stderr) as bar:
            seen = [0]

            def advance(done, total):
                if total and total != bar.length:
                    bar.length = total
                bar.update(done - seen[0])
                seen[0] = done
            yield advance
    else:
        last = [-1]

        def report(done, total):
            percent = int(100 * done / total) if total else 0
            if percent // 10 != last[0] // 10:
                last[0] = percent
                click.echo(f"reading: {percent}%", err=True)
        yield report


def finish(report: ImportReport, report_path: str | None) -> None:
    """Print the outcome; exit 1 unless the file was (or, dry, would be) imported whole."""
    if report.unknown_columns:
        click.echo(f"Columns not used (unknown): {', '.join(report.unknown_columns)}", err=True)
    if not report.ok:
        for problem in report.problems[:PRINTED_PROBLEMS]:
            click.echo(str(problem))
        more = report.problem_count - min(len(report.problems), PRINTED_PROBLEMS)
        if more > 0:
            tail = f" (all of them in {report_path})" if report_path else " (--report FILE writes all of them)"
            click.echo(f"... and {more} more problems{tail}")
        click.echo(f"{report.problem_count} problems in {report.file_name}: nothing was imported.")
        sys.exit(1)
    if report.dry_run:
        click.echo("Dry run: the file can be imported whole; nothing was written.")
    elif report.batch_id:
        click.echo(f"Batch {report.batch_id} (undo with --undo {report.batch_id}).")
    else:
        click.echo("Nothing to change: everything in the file is already in PaCo.")
    click.echo(report.counts_line)


@contextlib.contextmanager
def report_file(path: str | None):
    """The ``--report`` CSV: every problem, or just its header line when there were none."""
    if path is None:
        yield None
        return
    with open(path, "w", newline="", encoding="utf-8") as f:
        yield f
        if f.tell() == 0:
            f.write(",".join(ProblemLog.COLUMNS) + "\r\n")
