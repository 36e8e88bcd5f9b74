"""``flask export DATASET --format csv|xlsx|parquet|dta --out PATH.zip [--cohort NAME] [--from DAY] [--to DAY]``."""
from __future__ import annotations

import click

from analytics.datasets import DATASETS
from analytics.exports import FORMATS, export
from analytics.filters import Filters
from paco.errors import InvalidInput, NotFound
from paco.extensions import db
from paco.models import Cohort

from .cli import PacoGroup, cli_actor

export_cli = PacoGroup("export", help="Export a dataset as a zip: the data, dictionary.csv and manifest.json.")


def _cohort_ids(names: tuple[str, ...]) -> tuple[int, ...]:
    found = dict(db.session.execute(db.select(Cohort.name, Cohort.id).where(Cohort.name.in_(names))).all())
    missing = [name for name in names if name not in found]
    if missing:
        raise NotFound("unknown_cohort", "Unknown cohort: " + ", ".join(missing))
    return tuple(sorted(found.values()))


def _command(dataset: str) -> click.Command:
    @click.option("--format", "fmt", type=click.Choice(FORMATS), required=True)
    @click.option("--out", "out", required=True, type=click.Path(dir_okay=False, writable=True),
                  help="Where to write the zip.")
    @click.option("--cohort", "cohorts", multiple=True, help="Only this cohort (by name; repeat for several).")
    @click.option("--from", "start", help="First day (YYYY-MM-DD, UTC), inclusive.")
    @click.option("--to", "end", help="Last day (YYYY-MM-DD, UTC), inclusive.")
    def run(fmt, out, cohorts, start, end):
        if not out.endswith(".zip"):
            raise InvalidInput("invalid_out", "--out must name a .zip file.")
        filters = Filters.from_args({"from": start or "", "to": end or ""})
        filters = filters.with_(cohorts=_cohort_ids(cohorts) if cohorts else ())
        db.session.commit()  # the export reads on a connection of its own
        with db.engine.connect() as conn:
            bundle = export(conn, dataset, fmt, out, filters, cli_actor())
        click.echo(f"Exported {bundle.rows} row{'s' if bundle.rows != 1 else ''} of {dataset} to {out} "
                   f"(sha256 {bundle.files[0]['sha256'][:12]}…).")

    run.__doc__ = f"Export the {dataset.replace('_', ' ')} dataset."
    return export_cli.command(dataset)(run)


for _dataset in DATASETS:
    _command(_dataset)
