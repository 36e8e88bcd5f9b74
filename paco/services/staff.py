"""Staff accounts: argon2 passwords, sign-in with lockout, account changes. Every step audited."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ..errors import Conflict, InvalidInput
from ..extensions import db
from ..models import STAFF_ROLES, StaffUser, utcnow
from . import audit
from .transaction import committing

PASSWORD_MIN_LENGTH = 12
LOCKOUT_FAILURES = 5
LOCKOUT_MINUTES = 15
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

_hasher = PasswordHasher()
_dummy_hash: str | None = None


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def email_problem(email: str) -> str | None:
    if not _EMAIL_RE.match(email) or len(email) > 254:
        return "Enter a valid email address."
    return None


def password_problem(password: str, email: str = "") -> str | None:
    if len(password or "") < PASSWORD_MIN_LENGTH:
        return f"The password must be at least {PASSWORD_MIN_LENGTH} characters long."
    if email and password.strip().lower() == email.lower():
        return "The password must not be the email address."
    return None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _check_password(stored: str | None, password: str) -> bool:
    global _dummy_hash
    if stored is None:
        # Unknown accounts cost the same time as known ones, so timing does not reveal emails.
        _dummy_hash = _dummy_hash or _hasher.hash("not-a-real-password-0000")
        stored = _dummy_hash
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def find_staff(email: str) -> StaffUser | None:
    return db.session.execute(
        db.select(StaffUser).where(StaffUser.email == normalise_email(email))
    ).scalar_one_or_none()


def new_staff(email: str, role: str, password: str) -> StaffUser:
    """A validated, unsaved account (the caller saves it with its audit event)."""
    email = normalise_email(email)
    problem = email_problem(email) or password_problem(password, email)
    if role not in STAFF_ROLES:
        problem = problem or f"The role must be one of: {', '.join(STAFF_ROLES)}."
    if problem:
        raise InvalidInput("invalid_staff_account", problem)
    if find_staff(email) is not None:
        raise Conflict("staff_exists", f"A staff account for {email} already exists.")
    return StaffUser(email=email, role=role, password_hash=hash_password(password), active=True,
                     failed_logins=0)


def create_staff(email: str, role: str, password: str, actor: str, ip: str | None = None) -> StaffUser:
    return audit.create(new_staff(email, role, password), actor, ip)


def set_password(user: StaffUser, password: str, actor: str, ip: str | None = None) -> None:
    problem = password_problem(password, user.email)
    if problem:
        raise InvalidInput("weak_password", problem)

    def apply(u):
        u.password_hash = hash_password(password)
        u.failed_logins = 0
        u.locked_until = None

    audit.update(user, apply, actor, ip, extra={"password": "changed"})


def change_problem(user: StaffUser, acting_staff_id: int) -> str | None:
    """Why an admin's edit of an account must be refused (they must not lock themselves out)."""
    if user.role not in STAFF_ROLES:
        return f"The role must be one of: {', '.join(STAFF_ROLES)}."
    if user.id == acting_staff_id and (user.role != "admin" or not user.active):
        return "You cannot remove your own admin role or disable your own account."
    return None


def delete_problem(user: StaffUser, acting_staff_id: int) -> str | None:
    if user.id == acting_staff_id:
        return "You cannot delete your own account."
    other_admins = db.session.execute(db.select(db.func.count(StaffUser.id)).where(
        StaffUser.role == "admin", StaffUser.active.is_(True), StaffUser.id != user.id)).scalar()
    if user.role == "admin" and not other_admins:
        return "The last active admin account cannot be deleted."
    return None


# --- sign-in --------------------------------------------------------------------------------

@dataclass
class SignIn:
    user: StaffUser | None
    reason: str  # "ok", or why it was refused (audit only: people see one message)


def authenticate(email: str, password: str, ip: str | None, *, now: datetime | None = None,
                 max_failures: int = LOCKOUT_FAILURES, lock_minutes: int = LOCKOUT_MINUTES) -> SignIn:
    """Check a sign-in attempt, count failures, lock the account after ``max_failures``.

    While an account is locked even the right password is refused, and the attempt is audited.
    """
    now = now or utcnow()
    email = normalise_email(email)[:254]
    user = db.session.execute(
        db.select(StaffUser).where(StaffUser.email == email).with_for_update()
    ).scalar_one_or_none()
    password_ok = _check_password(user.password_hash if user else None, password)
    detail: dict = {}
    if user is None:
        reason = "unknown_email"
    elif user.locked_until is not None and user.locked_until > now:
        reason = "locked"
        detail["locked_until"] = user.locked_until
    elif not user.active:
        reason = "inactive"
    elif not password_ok:
        reason = "wrong_password"
        user.failed_logins += 1
        detail["failed_logins"] = user.failed_logins
        if user.failed_logins >= max_failures:
            user.locked_until = now + timedelta(minutes=lock_minutes)
            user.failed_logins = 0  # a fresh allowance once the lock expires
            detail["locked_until"] = user.locked_until
    else:
        reason = "ok"
        user.failed_logins = 0
        user.locked_until = None
        user.last_login_at = now
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
    action = "signin.success" if reason == "ok" else "signin.failure"
    if reason != "ok":
        detail["reason"] = reason
    with committing():
        audit.record(email, action, f"staff_users:{email}", detail, ip)
        if "locked_until" in detail and reason == "wrong_password":
            audit.record(email, "signin.locked", f"staff_users:{email}",
                         {"locked_until": detail["locked_until"], "minutes": lock_minutes}, ip)
    return SignIn(user if reason == "ok" else None, reason)


def session_fingerprint(user: StaffUser) -> str:
    """Changes with the password and at each sign-out: either ends every session of the account."""
    material = f"{user.password_hash}:{user.session_epoch or 0}"
    return hashlib.sha256(material.encode()).hexdigest()[:16]


def sign_out(user: StaffUser, ip: str | None) -> None:
    """End every session of the account (a signed cookie cannot be deleted from other copies)."""
    with committing():
        user.session_epoch = (user.session_epoch or 0) + 1
        audit.record(user.email, "signout", f"staff_users:{user.email}", {}, ip)
