"""Participant tokens revoked before they expire (signing out), when no Redis is configured."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime


class RevokedToken(db.Model):
    __tablename__ = "revoked_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Kept until the token would have expired anyway; later rows are purged.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
