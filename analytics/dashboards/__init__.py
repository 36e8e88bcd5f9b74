"""The six dashboards, by the name in their URL (/admin/dashboards/<name>/)."""
from __future__ import annotations

from ..filters import Filters
from ..model import Dashboard
from . import adherence, conversations, disclaimers, engagement, latency, overview

DASHBOARDS = {
    "overview": overview,
    "engagement": engagement,
    "adherence": adherence,
    "disclaimers": disclaimers,
    "conversations": conversations,
    "latency": latency,
}


def build(name: str, conn, filters: Filters) -> Dashboard:
    return DASHBOARDS[name].build(conn, filters)
