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
