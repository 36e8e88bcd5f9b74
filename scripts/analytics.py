"""``flask analytics``: upkeep of what the dashboards read (topic tags, rollups)."""
import sys

import click

from paco.extensions import db
from paco.services import rollups
from paco.services.topics import backfill

from .cli import PacoGroup

analytics_cli = PacoGroup("analytics", help="Upkeep of the investigator dashboards' data.")


@analytics_cli.command("backfill-topics")
@click.option("--all", "everything", is_flag=True, help="Re-tag every question, not only untagged ones.")
def backfill_topics_command(everything):
    """Give stored questions their topic tag (after an upgrade, or with --all after a rule change)."""
    tagged = backfill(db.engine, everything=everything)
    click.echo(f"Tagged {tagged} question{'s' if tagged != 1 else ''}.")
    if tagged:  # the rollups count questions by topic
        _refresh(rebuild=True)


@analytics_cli.command("refresh")
@click.option("--rebuild", is_flag=True, help="Empty the rollups and count every row again.")
def refresh_command(rebuild):
    """Roll new questions and turns into the dashboards' rollups (the dashboards are exact without
    it, and faster with it; each dashboard view also rolls a chunk)."""
    _refresh(rebuild)


def _refresh(rebuild: bool) -> None:
    waiting = sum(rollups.pending(db.engine).values())
    with click.progressbar(length=waiting, label="rows rolled up", file=sys.stderr) as bar:
        state = {}

        def progress(name, done, total):
            bar.update(done - state.get(name, 0))
            state[name] = done
        rolled = (rollups.rebuild if rebuild else rollups.refresh)(db.engine, progress=progress)
    click.echo(f"Rolled up {rolled['questions']} messages and {rolled['turns']} turns.")
