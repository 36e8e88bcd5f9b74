"""``flask audit verify``: check the audit log's hash chain from the first event to the last."""
import click

from paco.services.audit import verify_chain

from .cli import PacoGroup

audit_cli = PacoGroup("audit", help="The append-only audit log.")


@audit_cli.command("verify")
def verify_command():
    """Recompute every event's hash; exit 1 naming the first event that does not match."""
    report = verify_chain()
    if report.intact:
        click.echo(f"checked {report.checked} audit events: chain intact")
        return
    click.echo(f"broken link at audit event {report.broken_id} ({report.reason}); "
               f"{report.checked} events before it are intact", err=True)
    raise SystemExit(1)
