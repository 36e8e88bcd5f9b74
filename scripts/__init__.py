"""Command-line groups for operators and data managers, thin over paco.services (``flask --app wsgi ...``)."""
from flask import Flask


def register_cli(app: Flask) -> None:
    from .demo import demo_cli

    app.cli.add_command(demo_cli)
