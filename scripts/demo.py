"""``flask demo load`` (the laptop demo's rows) and ``flask demo synth`` (a synthetic study at any scale)."""
import sys
import time

import click

from paco.extensions import db
from paco.services.demo import load_demo
from paco.services.synth import synthesize

from .cli import PacoGroup

demo_cli = PacoGroup("demo", help="Demo data for a laptop.")


@demo_cli.command("load")
@click.option("--with-study", is_flag=True,
              help="Also a small synthetic study (60 participants, 90 days), so the dashboards have data.")
def load_command(with_study):
    """Create the demo data that is missing (safe to run again)."""
    created = load_demo(study=with_study)
    if any(created.values()):
        click.echo("Demo data loaded: " + ", ".join(f"{n} {name}" for name, n in created.items() if n))
    else:
        click.echo("Demo data already present; nothing to do.")


@demo_cli.command("synth")
@click.option("--participants", type=int, required=True, help="How many research IDs to enrol.")
@click.option("--days", type=int, required=True, help="How many days back the study started.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Random seed; also names the research IDs (SYN<seed>-00001...), so each seed is used once.")
def synth_command(participants, days, seed):
    """Write a realistic synthetic study: cohorts, enrolment, chats, turn metrics, adherence."""
    started = time.monotonic()
    with click.progressbar(length=participants, label="participants", show_pos=True,
                           file=sys.stderr) as bar:
        result = synthesize(db.engine, participants, days, seed, progress=bar.update)
    took = time.monotonic() - started
    click.echo("Synthetic study written in {:.1f} s: ".format(took)
               + ", ".join(f"{n} {name.replace('_', ' ')}" for name, n in result.as_dict().items()))
