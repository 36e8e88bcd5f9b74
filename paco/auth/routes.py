"""Seed-compatible sign-in endpoints; views are thin: parse, one service call, respond."""
from __future__ import annotations

from flask import current_app, g, jsonify, request
from flask_jwt_extended import (
    create_access_token,
    get_jwt,
    set_access_cookies,
    unset_jwt_cookies,
    verify_jwt_in_request,
)
from flask_jwt_extended.exceptions import JWTExtendedException
from jwt import PyJWTError

from ..errors import Conflict, NotFound
from ..models.types import iso_utc
from ..rest import json_body
from ..security import security_log
from ..services import consent
from ..services.participants import active_participant, may_sign_in, not_accepted, standing
from ..validation import field, research_id_field
from ..web_extensions import limiter
from . import bp
from .holder import forget_device, proves, remember_device
from .tokens import participant_required, revocations


def _auth_limit():
    return current_app.config["PACO_RATE_LIMIT_AUTH"]


def _current_disclaimer_or_404():
    disclaimer = consent.current_disclaimer()
    if disclaimer is None:
        raise NotFound("no_disclaimer", "No disclaimer has been published yet.")
    return disclaimer


@bp.post("/validate-research-id")
@limiter.limit(_auth_limit)
def validate_research_id():
    research_id = research_id_field(json_body(request))
    holder = proves(research_id)  # before the lookup, the same work whatever was typed
    found = standing(research_id)
    if not found.active:
        refusal = not_accepted(found, research_id, holder)
        if refusal.code == "research_id_inactive":
            # Only someone who held this ID (a token, the device cookie) learns it is paused or ended.
            return jsonify(valid=False, disclaimer_required=False, access=found.participant.status,
                           message=refusal.message)
        return jsonify(valid=False, disclaimer_required=False, message=refusal.message)
    return jsonify(valid=True, disclaimer_required=found.disclaimer_required,
                   disclaimer_version=found.current_version)


@bp.get("/disclaimer")
def get_disclaimer():
    disclaimer = _current_disclaimer_or_404()
    return jsonify(version=disclaimer.version, text=disclaimer.text,
                   content_hash=disclaimer.content_hash,
                   published_at=iso_utc(disclaimer.published_at))


@bp.post("/acknowledge-disclaimer")
@limiter.limit(_auth_limit)
def acknowledge_disclaimer():
    body = json_body(request)
    research_id = research_id_field(body)
    version = field(body, "version", int, required=False)
    active_participant(research_id, holder=proves(research_id))
    disclaimer = _current_disclaimer_or_404()
    if version is not None and version != disclaimer.version:
        raise Conflict("disclaimer_outdated",
                       f"Version {version} is not the current disclaimer (v{disclaimer.version}). "
                       "Please read the current version.")
    consent.acknowledge(research_id, disclaimer, request.headers.get("User-Agent", ""))
    return jsonify(acknowledged=True, version=disclaimer.version)


@bp.post("/login")
@limiter.limit(_auth_limit)
def login():
    research_id = research_id_field(json_body(request))
    may_sign_in(research_id, holder=proves(research_id))
    token = create_access_token(identity=research_id)
    expires = current_app.config["JWT_ACCESS_TOKEN_EXPIRES"]
    response = jsonify(access_token=token, token_type="bearer",
                       expires_in=int(expires.total_seconds()))
    # The cookie lives exactly as long as the token in it (the library's default is a year).
    set_access_cookies(response, token, max_age=int(expires.total_seconds()))
    remember_device(response, research_id)
    return response


@bp.get("/session")
@participant_required
def session_info():
    """Who the cookie or bearer token belongs to: lets the web app resume after a reload."""
    return jsonify(research_id=g.participant.research_id, authenticated=True)


@bp.post("/logout")
def logout():
    """Sign out: the token (cookie or bearer) is revoked at once, then the cookies are cleared."""
    try:
        verify_jwt_in_request(optional=True)
        claims = get_jwt()
    except (JWTExtendedException, PyJWTError):
        claims = {}  # expired or broken: nothing left to revoke
    if claims.get("jti"):
        revocations().revoke(claims["jti"], claims["exp"])
        security_log.info({"event": "token_revoked", "security": True, "ip": request.remote_addr})
    response = jsonify(signed_out=True)
    unset_jwt_cookies(response)
    forget_device(response)
    return response
