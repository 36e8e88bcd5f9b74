"""The CLI edge: every command group maps a domain error the same way, and names who ran it."""
from __future__ import annotations

import getpass

import click
from flask.cli import AppGroup

from paco.errors import PacoError

# 2 is click's own usage error; a refusal by PaCo's rules is 1.
REFUSED_EXIT_CODE = 1


class RefusedError(click.ClickException):
    exit_code = REFUSED_EXIT_CODE

    def __init__(self, err: PacoError):
        super().__init__(f"{err.message} [{err.code}]")
        self.code = err.code


class PacoGroup(AppGroup):
    """An ``AppGroup`` whose commands print a ``PacoError`` as ``Error: message [code]`` on
    stderr and exit 1, with no traceback: the one place the CLI maps domain errors."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except PacoError as err:
            raise RefusedError(err) from None


def cli_actor() -> str:
    """Who the audit log names for a command run without ``--as``: the operating-system user."""
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no login name in some containers
        return "cli"


def as_option(command):
    """``--as EMAIL``: the staff account (data manager or admin) the audit log names."""
    return click.option("--as", "as_email", metavar="EMAIL",
                        help="Your staff account (data_manager or admin): the audit log names you. "
                             "Without it, the operating-system user.")(command)


def acting_staff(email: str | None) -> str:
    """The audit's actor for ``--as EMAIL``: an active data manager or admin, or a refusal."""
    if email is None:
        return cli_actor()
    from paco.services import staff

    user = staff.find_staff(email)
    if user is None or not user.active:
        raise click.ClickException(f"There is no active staff account for {staff.normalise_email(email)}.")
    if user.role not in ("admin", "data_manager"):
        raise click.ClickException(f"{user.email} is an {user.role}; imports and ID changes need a "
                                   "data_manager or admin account.")
    return user.email
