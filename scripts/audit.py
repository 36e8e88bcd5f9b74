"""``flask audit verify|anchor``: check the audit log's keyed hash chain against its signed checkpoints."""
import click

from paco.services.audit import anchor_now, verify_chain

from .cli import PacoGroup

audit_cli = PacoGroup("audit", help="The append-only audit log.")


@audit_cli.command("verify")
def verify_command():
    """Recompute every event's hash and hold the log to its checkpoints; exit 1 naming the first
    event that does not match or is missing."""
    report = verify_chain()
    if report.intact:
        click.echo(f"checked {report.checked} audit events: chain intact")
        click.echo(f"held to {report.checkpoints} signed checkpoints", err=True)
        if report.legacy:
            click.echo(f"{report.legacy} early events were written before the chain was keyed", err=True)
        return
    click.echo(f"broken link at audit event {report.broken_id} ({report.reason}); "
               f"{report.checked} events before it are intact", err=True)
    raise SystemExit(1)


@audit_cli.command("anchor")
def anchor_command():
    """Write a signed checkpoint of the newest event now (the app also writes one every minute
    while events are added), to PACO_AUDIT_ANCHOR_FILE and to Redis when configured."""
    checkpoint = anchor_now()
    if checkpoint is None:
        click.echo("the audit log is empty: nothing to anchor")
        return
    click.echo(f"checkpoint written: audit event {checkpoint.event_id} {checkpoint.hash}")
