"""``flask staff create|set-password``: staff accounts for the investigator site."""
from __future__ import annotations

import sys

import click

from paco.models import STAFF_ROLES
from paco.services import staff

from .cli import PacoGroup, cli_actor

staff_cli = PacoGroup("staff", help="Staff accounts of the investigator site (/admin).")


def _read_password() -> str:
    """Asked twice, hidden, at a terminal; otherwise the first two lines of stdin."""
    if sys.stdin is not None and sys.stdin.isatty():
        first = click.prompt("Password", hide_input=True)
        second = click.prompt("Repeat the password", hide_input=True)
    else:
        first = sys.stdin.readline().rstrip("\r\n")
        second = sys.stdin.readline().rstrip("\r\n")
    if first != second:
        raise click.ClickException("The two passwords do not match; nothing was changed.")
    problem = staff.password_problem(first)
    if problem:
        raise click.ClickException(problem + " Nothing was changed.")
    return first


@staff_cli.command("create")
@click.option("--email", required=True, help="The person's email; they sign in with it.")
@click.option("--role", required=True, type=click.Choice(STAFF_ROLES),
              help="admin: everything; data_manager: enrolment and data; investigator: read and export.")
def create_command(email: str, role: str):
    """Create a staff account (the first admin, typically). The password is asked twice."""
    email = staff.normalise_email(email)
    problem = staff.email_problem(email)
    if problem:
        raise click.ClickException(problem)
    if staff.find_staff(email) is not None:
        raise click.ClickException(f"A staff account for {email} already exists.")
    password = _read_password()
    user = staff.create_staff(email, role, password, actor=cli_actor())
    click.echo(f"Created {user.role} account {user.email}. Sign in at /admin/login/.")


@staff_cli.command("set-password")
@click.option("--email", required=True)
def set_password_command(email: str):
    """Set a new password (and unlock the account). The password is asked twice."""
    user = staff.find_staff(email)
    if user is None:
        raise click.ClickException(f"There is no staff account for {staff.normalise_email(email)}.")
    password = _read_password()
    staff.set_password(user, password, actor=cli_actor())
    click.echo(f"New password set for {user.email}; the account is unlocked.")
