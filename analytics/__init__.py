"""Investigator analytics: read-only SQL aggregates → pandas → Plotly (docs/architecture.md).

Each dashboard is ``build(connection, filters) -> Dashboard``: the admin pages, the CLI and the
tests call the same code. Aggregates are pushed down to the database (SQLAlchemy Core, SQLite and
PostgreSQL alike); only aggregated rows reach pandas. No Flask here.
"""
from .dashboards import DASHBOARDS, build
from .filters import Filters
from .model import Dashboard, Panel

__all__ = ["DASHBOARDS", "Dashboard", "Filters", "Panel", "build"]
