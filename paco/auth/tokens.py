"""JWT rules: HS256 only, 24 h, identity from the token's ``sub``; JSON errors for every failure."""
from __future__ import annotations

from functools import wraps

import jwt as pyjwt
from flask import Flask, current_app, g
from flask_jwt_extended import decode_token, get_jwt_identity, verify_jwt_in_request
from flask_jwt_extended.exceptions import JWTExtendedException

from ..errors import Unauthorized
from ..redis_client import redis_from_config
from ..rest import error_response
from ..services.participants import authorize_participant
from ..services.revocation import RevocationList
from ..web_extensions import jwt

SIGNED_OUT_MESSAGE = "You have signed out on this device. Please sign in again."


def configure_jwt(app: Flask) -> None:
    app.config.update(
        JWT_ALGORITHM="HS256",
        JWT_DECODE_ALGORITHMS=["HS256"],
        JWT_TOKEN_LOCATION=["headers", "cookies"],
        JWT_ACCESS_COOKIE_PATH="/api/",
        JWT_ACCESS_CSRF_COOKIE_PATH="/",
        JWT_COOKIE_SAMESITE="Strict",
        JWT_COOKIE_SECURE=app.config["PACO_COOKIE_SECURE"],
        JWT_COOKIE_CSRF_PROTECT=True,
        JWT_SESSION_COOKIE=False,
        JWT_ERROR_MESSAGE_KEY="message",
    )


@jwt.expired_token_loader
def _expired(_header, _payload):
    return error_response(401, "token_expired", "Your session has expired. Please sign in again.")


@jwt.invalid_token_loader
def _invalid(reason: str):
    return error_response(401, "invalid_token", "The access token is not valid.")


@jwt.unauthorized_loader
def _missing(reason: str):
    if "CSRF" in reason:
        return error_response(401, "csrf_missing", "The X-CSRF-TOKEN header is missing.")
    return error_response(401, "missing_token", "Sign in first: no access token was sent.")


@jwt.token_verification_failed_loader
def _failed(_header, _payload):
    return error_response(401, "invalid_token", "The access token is not valid.")


@jwt.token_in_blocklist_loader
def _signed_out(_header, payload) -> bool:
    return revocations().is_revoked(payload.get("jti"))


@jwt.revoked_token_loader
def _revoked(_header, _payload):
    return error_response(401, "token_revoked", SIGNED_OUT_MESSAGE)


def revocations() -> RevocationList:
    """The app's deny-list of signed-out tokens (Redis when configured, else the database)."""
    app = current_app._get_current_object()
    if "paco_revocations" not in app.extensions:
        app.extensions["paco_revocations"] = RevocationList(redis_from_config(app.config),
                                                            app.config["PACO_REDIS_PREFIX"])
    return app.extensions["paco_revocations"]


def participant_required(view):
    """Require a valid access token of a participant who may still use PaCo (sets ``g.participant``)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        verify_jwt_in_request()
        g.participant = authorize_participant(get_jwt_identity())
        return view(*args, **kwargs)

    return wrapper


def access_claims(token: object) -> dict:
    """The verified claims of a token sent outside the Authorization header (chat frames, the
    socket's cookie), or ``Unauthorized`` saying why not. Revocation is checked separately."""
    if not isinstance(token, str) or not token or len(token) > 4096:
        raise Unauthorized("invalid_token", "The access token is missing or not valid.")
    try:
        claims = decode_token(token)
    except pyjwt.ExpiredSignatureError:
        raise Unauthorized("token_expired", "Your session has expired. Please sign in again.") from None
    except (pyjwt.PyJWTError, JWTExtendedException, ValueError):
        raise Unauthorized("invalid_token", "The access token is not valid.") from None
    if claims.get("type") != "access" or not isinstance(claims.get("sub"), str):
        raise Unauthorized("invalid_token", "The access token is not valid.")
    return claims


def check_not_revoked(jti: str | None) -> None:
    """Chat frames re-check the token each time: signing out ends an open socket's session too."""
    if revocations().is_revoked(jti):
        raise Unauthorized("token_revoked", SIGNED_OUT_MESSAGE)
