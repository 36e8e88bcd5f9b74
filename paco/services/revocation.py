"""Signed-out participant tokens, refused until they would have expired anyway.

A JWT is valid until its ``exp`` by itself; signing out (on a clinic's shared tablet, say) must end
it at once. The ``jti`` of a signed-out token goes on a deny-list: in Redis when ``REDIS_URL`` is
set (shared by every instance, each key expiring with its token), else in the database.

When Redis cannot be reached, sign-out and the check both answer ``Unavailable`` (503, or an
``unavailable`` frame on the chat socket, which stays open): a token is never taken as valid
because the deny-list could not be read.
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timezone

from sqlalchemy.exc import IntegrityError

from ..errors import Unavailable
from ..extensions import db
from ..models import RevokedToken, utcnow
from .transaction import committing


class RevocationList:
    def __init__(self, redis_client=None, prefix: str = "paco"):
        self.redis = redis_client
        self.prefix = f"{prefix}:revoked:"

    def revoke(self, jti: str, expires: int | float) -> None:
        """Refuse the token ``jti`` from now until ``expires`` (its ``exp`` claim, epoch seconds)."""
        if self.redis is not None:
            with _redis_errors():
                self.redis.set(self.prefix + jti, b"1", exat=max(int(expires), int(utcnow().timestamp()) + 1))
            return
        expires_at = datetime.fromtimestamp(expires, tz=timezone.utc)
        try:
            with committing() as session:
                session.execute(db.delete(RevokedToken).where(RevokedToken.expires_at < utcnow()))
                session.add(RevokedToken(jti=jti, expires_at=expires_at))
        except IntegrityError:
            pass  # signed out twice: already on the list

    def is_revoked(self, jti: str | None) -> bool:
        if not jti:
            return False
        if self.redis is not None:
            with _redis_errors():
                return bool(self.redis.exists(self.prefix + jti))
        return db.session.get(RevokedToken, jti) is not None


@contextmanager
def _redis_errors():
    import redis

    try:
        yield
    except redis.RedisError:
        raise Unavailable("unavailable",
                          "PaCo cannot check sign-ins right now. Please try again in a moment.") from None
