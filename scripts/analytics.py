"""``flask analytics``: upkeep of what the dashboards read (topic tags)."""
import click

from paco.extensions import db
from paco.services.topics import backfill

from .cli import PacoGroup

analytics_cli = PacoGroup("analytics", help="Upkeep of the investigator dashboards' data.")


@analytics_cli.command("backfill-topics")
@click.option("--all", "everything", is_flag=True, help="Re-tag every question, not only untagged ones.")
def backfill_topics_command(everything):
    """Give stored questions their topic tag (after an upgrade, or with --all after a rule change)."""
    tagged = backfill(db.engine, everything=everything)
    click.echo(f"Tagged {tagged} question{'s' if tagged != 1 else ''}.")
