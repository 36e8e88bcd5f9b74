"""``flask ids import|generate|list|set-status|move``: research IDs in bulk (docs/data-managers.md).

Thin over paco.services: the same rules and audit as the admin site's Import page and actions.
"""
from __future__ import annotations

import csv
import os
import sys

import click

from paco.extensions import db
from paco.models import PARTICIPANT_STATUSES, Cohort, ResearchID
from paco.services import enrolment, imports
from paco.services.imports.reading import FileProblem, open_table
from paco.services.imports.runner import map_header

from .cli import PacoGroup, acting_staff, as_option
from .imports import finish, import_options, run_import

ids_cli = PacoGroup("ids", help="Research IDs in bulk: import, generate, list, set status, move.")
VERB_FOR_STATUS = {status: verb for verb, status in enrolment.STATUS_ACTIONS.items()}


@ids_cli.command("import")
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False))
@click.option("--cohort", help="The cohort the IDs join (required unless --undo).")
@click.option("--create-cohort", is_flag=True, help="Create the cohort if it does not exist.")
@import_options
@as_option
def import_command(file, cohort, create_cohort, dry_run, report_path, sheet, undo_batch, as_email):
    """Import research IDs from FILE (CSV or XLSX) into a cohort.

    Columns: research_id (or record_id, study_id, participant_id, subject_id); optional status,
    enrolled_at, notes. The whole file is checked first; any problem and nothing is written.
    """
    run_import(imports.import_research_ids, file, undo_batch, as_email, report_path, "--cohort",
               cohort=cohort, create_cohort=create_cohort, dry_run=dry_run, sheet=sheet)


@ids_cli.command("generate")
@click.option("--cohort", required=True)
@click.option("--count", required=True, type=click.IntRange(1, imports.GENERATE_MAX))
@click.option("--prefix", default="", help="Letters or digits before the code, e.g. PAD gives PAD-7KQ4-M9XF.")
@click.option("--create-cohort", is_flag=True, help="Create the cohort if it does not exist.")
@click.option("--out", type=click.Path(dir_okay=False, writable=True),
              help="Write the new IDs to this CSV file (research_id, cohort) instead of printing them.")
@as_option
def generate_command(cohort, count, prefix, create_cohort, out, as_email):
    """Create COUNT new research IDs that can be read aloud and typed, with a check character."""
    report, ids = imports.generate_research_ids(cohort, count, actor=acting_staff(as_email), prefix=prefix,
                                                create_cohort=create_cohort)
    if not report.ok:
        finish(report, None)
    if out:
        with open(out, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(["research_id", "cohort"])
            writer.writerows([i, cohort.strip()] for i in ids)
        click.echo(f"{len(ids)} research IDs written to {out}; batch {report.batch_id}.", err=True)
    else:
        click.echo("\n".join(ids))
        click.echo(f"Batch {report.batch_id}.", err=True)
    click.echo(report.counts_line, err=True)


@ids_cli.command("list")
@click.option("--cohort", help="Only this cohort.")
@click.option("--status", type=click.Choice(PARTICIPANT_STATUSES))
@click.option("--format", "fmt", type=click.Choice(["lines", "csv"]), default="lines", show_default=True,
              help="lines: one research ID per line and nothing else; csv: with cohort, status, dates, notes.")
def list_command(cohort, status, fmt):
    """List research IDs (sorted)."""
    query = (db.select(ResearchID.research_id, Cohort.name, ResearchID.status, ResearchID.enrolled_at,
                       ResearchID.notes, ResearchID.import_batch)
             .outerjoin(Cohort, Cohort.id == ResearchID.cohort_id).order_by(ResearchID.research_id))
    if cohort is not None:
        query = query.where(Cohort.id == imports.cohort_named(cohort).id)
    if status is not None:
        query = query.where(ResearchID.status == status)
    rows = db.session.execute(query.execution_options(yield_per=5000))
    if fmt == "lines":
        for row in rows:
            click.echo(row.research_id)
        return
    from paco.spreadsheet import neutralise

    writer = csv.writer(sys.stdout)
    writer.writerow(["research_id", "cohort", "status", "enrolled_at", "notes", "import_batch"])
    for row in rows:
        writer.writerow([row.research_id, row.name or "", row.status,
                         row.enrolled_at.isoformat() if row.enrolled_at else "", neutralise(row.notes),
                         row.import_batch or ""])


def research_ids_from(items: tuple[str, ...]) -> list[str]:
    """IDs given on the command line; an argument that is a file gives its IDs (a CSV or XLSX with a
    research_id column, or a plain list, one per line)."""
    found: list[str] = []
    for item in items:
        if not os.path.isfile(item):
            found.append(item)
            continue
        try:
            table = open_table(item)
        except FileProblem as err:
            raise click.ClickException(err.message) from None
        column = map_header(table.header, imports.research_ids.COLUMNS)[0].get("research_id")
        if column is None:  # a plain list: the "header" is the first ID
            column = 0
            found.append(str(table.header[0]) if table.header else "")
        for _, cells in table.rows:
            if column < len(cells) and cells[column] not in (None, ""):
                found.append(str(cells[column]))
    if not found:
        raise click.UsageError("Give research IDs, or a file of them.")
    return found


@ids_cli.command("set-status")
@click.argument("status", type=click.Choice(PARTICIPANT_STATUSES))
@click.argument("items", nargs=-1, required=True, metavar="FILE|ID...")
@as_option
def set_status_command(status, items, as_email):
    """Activate, pause or withdraw research IDs (paused and withdrawn lose their open chats at once)."""
    ids = research_ids_from(items)
    changed = enrolment.set_status(ids, VERB_FOR_STATUS[status], acting_staff(as_email), None)
    unchanged = len(set(i.strip().upper() for i in ids)) - changed
    click.echo(f"research IDs: {changed} set to {status}, {unchanged} already {status}")


@ids_cli.command("move")
@click.option("--cohort", required=True, help="The cohort to move them to.")
@click.argument("items", nargs=-1, required=True, metavar="FILE|ID...")
@as_option
def move_command(cohort, items, as_email):
    """Move research IDs to another cohort."""
    ids = research_ids_from(items)
    target = imports.cohort_named(cohort)
    changed = enrolment.move_to_cohort(ids, target.id, acting_staff(as_email), None)
    unchanged = len(set(i.strip().upper() for i in ids)) - changed
    click.echo(f"research IDs: {changed} moved to {target.name}, {unchanged} already there")
