"""``flask demo load``: the demo cohort, research IDs RID001-RID010 and disclaimer v1."""
import click

from paco.services.demo import load_demo

from .cli import PacoGroup

demo_cli = PacoGroup("demo", help="Demo data for a laptop.")


@demo_cli.command("load")
def load_command():
    """Create the demo data that is missing (safe to run again)."""
    created = load_demo()
    if any(created.values()):
        click.echo("Demo data loaded: " + ", ".join(f"{n} {name}" for name, n in created.items()))
    else:
        click.echo("Demo data already present; nothing to do.")
