"""Study staff who sign in to the investigator site."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow

STAFF_ROLES = ("admin", "data_manager", "investigator")


class StaffUser(db.Model):
    __tablename__ = "staff_users"
    __table_args__ = (CheckConstraint(f"role IN {STAFF_ROLES}", name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True, nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    role: Mapped[str] = mapped_column(String(20), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_logins: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Part of every session's identity: raising it (on sign-out) ends all sessions of the account,
    # including copies of the signed cookie that a sign-out in one browser cannot delete.
    session_epoch: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")

    def __str__(self):
        return self.email
