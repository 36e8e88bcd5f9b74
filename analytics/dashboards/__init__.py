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
    if conn.dialect.name == "postgresql":
        # For this transaction only: a dashboard's statements sort and group a few hundred thousand
        # rollup rows, which spill to disk under the default 4 MB, and JIT-compiling each costs
        # about 50 ms, more than it saves here (BENCHMARKS.md, issue 14).
        conn.exec_driver_sql("SET LOCAL work_mem = '64MB'")
        conn.exec_driver_sql("SET LOCAL jit = off")
    return DASHBOARDS[name].build(conn, filters)
