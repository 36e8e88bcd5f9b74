"""The append-only, hash-chained audit log of staff actions."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .consent import DisclaimerAcknowledgment
from .types import UTCDateTime, utcnow


class AuditEvent(db.Model):
    """One staff action. ``hash`` covers the fields and ``prev_hash`` (paco.services.audit).

    ``prev_hash`` is unique: two events can never extend the same event, so the chain cannot fork.
    """

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(254), nullable=False)
    action: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    target: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    detail: Mapped[str] = mapped_column(Text, nullable=False, default="{}")
    ip: Mapped[str | None] = mapped_column(String(45))
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)


class AppendOnlyError(RuntimeError):
    """An attempt to change or remove a row of an append-only table."""


def _refuse(mapper, connection, target):
    raise AppendOnlyError(f"{target.__tablename__} is append-only: rows are never changed or deleted")


# PostgreSQL refuses these in the database itself (migration 0002); this catches ORM code on any engine.
for _model in (AuditEvent, DisclaimerAcknowledgment):
    event.listen(_model, "before_update", _refuse)
    event.listen(_model, "before_delete", _refuse)
