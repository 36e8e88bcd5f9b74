"""Command-line groups for operators and data managers, thin over paco.services (``flask --app wsgi ...``)."""
from flask import Flask


def register_cli(app: Flask) -> None:
    from .adherence import adherence_cli
    from .analytics import analytics_cli
    from .assistant import assistant_cli
    from .audit import audit_cli
    from .demo import demo_cli
    from .export import export_cli
    from .ids import ids_cli
    from .staff import staff_cli

    app.cli.add_command(assistant_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(staff_cli)
    app.cli.add_command(audit_cli)
    app.cli.add_command(analytics_cli)
    app.cli.add_command(export_cli)
    app.cli.add_command(ids_cli)
    app.cli.add_command(adherence_cli)
