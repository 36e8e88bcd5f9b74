"""``flask adherence import``: adherence measures from pharmacy, pill-count or MEMS files (docs/data-managers.md)."""
from __future__ import annotations

import click

from paco.models import ADHERENCE_MEASURES
from paco.services import imports

from .cli import PacoGroup, as_option
from .imports import import_options, run_import

adherence_cli = PacoGroup("adherence", help="Adherence data in bulk.")


@adherence_cli.command("import")
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False))
@click.option("--measure", type=click.Choice(ADHERENCE_MEASURES), help="What the file measures (required).")
@click.option("--source", default="",
              help="Where the values come from, e.g. 'Pharmacy A' (part of each record's identity).")
@click.option("--scale", type=click.Choice(imports.SCALES), default="fraction", show_default=True,
              help="fraction: values 0-1 (stored as they are); percent: 0-100 (divided by 100).")
@import_options
@as_option
def import_command(file, measure, source, scale, dry_run, report_path, sheet, undo_batch, as_email):
    """Import adherence values from FILE (CSV or XLSX).

    Columns: research_id, date (YYYY-MM-DD), value; optional medication, notes. Values are stored
    as a fraction 0-1 of doses taken (refill PDC likewise).
    """
    run_import(imports.import_adherence, file, undo_batch, as_email, report_path, "--measure",
               measure=measure, source=source, scale=scale, dry_run=dry_run, sheet=sheet)
