"""Has this request shown that it holds a research ID? Then a paused or withdrawn participant can
be told so, and whom to contact, without telling a stranger anything about IDs they type.

Proof is something only PaCo could have handed to that ID's holder: an access token for it (in the
Authorization header or the session cookie; expired still counts, since it was issued to them), or
the device cookie set at sign-in (``paco_device``: the research ID signed with the token key, HttpOnly,
sent only to the sign-in paths, kept 180 days, removed when they sign out). The check is run the
same way whatever ID was typed, before the ID is looked up, so answers take the same work.
"""
from __future__ import annotations

from flask import Response, current_app, request
from flask_jwt_extended import decode_token
from itsdangerous import BadSignature, URLSafeTimedSerializer

DEVICE_COOKIE = "paco_device"
DEVICE_COOKIE_PATH = "/api/v1/auth/"
DEVICE_DAYS = 180


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["JWT_SECRET_KEY"], salt="paco-device")


def _token_subject(token: str | None) -> str | None:
    if not token or len(token) > 4096:
        return None
    try:
        claims = decode_token(token, allow_expired=True)
    except Exception:  # any malformed, forged or foreign token proves nothing
        return None
    return claims.get("sub") if claims.get("type") == "access" else None


def held_research_ids() -> set[str]:
    header = request.headers.get("Authorization", "")
    bearer = header[7:].strip() if header[:7].lower() == "bearer " else None
    held = {_token_subject(bearer), _token_subject(request.cookies.get(current_app.config["JWT_ACCESS_COOKIE_NAME"]))}
    device = request.cookies.get(DEVICE_COOKIE)
    if device and len(device) <= 512:
        try:
            held.add(_serializer().loads(device, max_age=DEVICE_DAYS * 86400))
        except BadSignature:
            pass
    return {rid for rid in held if isinstance(rid, str)}


def proves(research_id: str) -> bool:
    return research_id in held_research_ids()


def remember_device(response: Response, research_id: str) -> None:
    response.set_cookie(DEVICE_COOKIE, _serializer().dumps(research_id), max_age=DEVICE_DAYS * 86400,
                        path=DEVICE_COOKIE_PATH, secure=current_app.config["JWT_COOKIE_SECURE"], httponly=True,
                        samesite="Strict")


def forget_device(response: Response) -> None:
    response.delete_cookie(DEVICE_COOKIE, path=DEVICE_COOKIE_PATH, secure=current_app.config["JWT_COOKIE_SECURE"],
                           httponly=True, samesite="Strict")
