"""Work that would hold the gevent loop, run in gevent's thread pool instead.

A worker's greenlets (every chat socket it serves) share one OS thread: CPU-heavy Python (a reply's
reading grade, pandas) and C calls that do not yield (SQLite) stall them all for as long as they
run. In a pool thread they only take turns for the GIL, every few milliseconds.
"""
from __future__ import annotations

import gevent


def off_the_loop(func, *args):
    """``func(*args)`` in gevent's thread pool; this greenlet waits, the others go on."""
    return gevent.get_hub().threadpool.apply(func, args)
