"""``committing()``: the unit of work every service write runs in."""
from __future__ import annotations

from contextlib import contextmanager

from ..extensions import db


@contextmanager
def committing(session=None):
    """Commit what the block did, or roll all of it back if it raised (and re-raise).

    A change and its audit event are written in one such block, so neither lands alone.
    """
    session = session or db.session
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
