"""``WS /api/v1/chat/ws/chat``: the participant's chat socket (docs/protocol.md).

The handler's greenlet reads frames and answers at once (pings, errors); accepted messages go
to a per-socket worker greenlet that runs turns one after another, so a long answer never
delays a pong and two answers never interleave. When the client leaves, the worker finishes
what was accepted, so every question received gets a stored answer.
"""
from __future__ import annotations

import logging
import time

import gevent
from flask import current_app, g, request
from gevent.queue import Queue
from simple_websocket import ConnectionClosed
from sqlalchemy.exc import SQLAlchemyError

from ..assistant.answer import Arm
from ..auth.limits import hit_participant_limit
from ..auth.tokens import access_claims, check_not_revoked
from ..errors import Forbidden, PacoError, Unauthorized
from ..extensions import db
from ..redis_client import redis_from_config
from ..rest import error_response
from ..security import origin_allowed
from ..services.participants import authorize_participant
from ..services.socket_slots import SocketSlots
from ..web_extensions import sock
from . import bp
from .frames import error, error_frame, parse
from .outbox import Outbox
from .sessions import CLOSE_POLICY, MALFORMED_LIMIT, ChatSession, OpenSockets, stopping
from .turn import TurnRequest, run_turn

log = logging.getLogger("paco.chat.socket")
WS_PATH = "/api/v1/chat/ws/chat"


@bp.before_app_request
def check_handshake():
    """Refuse a cross-site handshake before the upgrade; note who the session cookie names."""
    if request.path != WS_PATH:
        return None
    if not origin_allowed(request.headers.get("Origin")):
        return error_response(403, "origin_not_allowed", "This site may not open PaCo's chat.")
    # No permessage-deflate: simple-websocket accepts it whenever offered, and it costs
    # ~100-140 kB per socket plus a zlib pass per frame, for frames that are either a few
    # words of text or base64 audio that barely compresses (docs/field-notes.md).
    request.environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)
    g.ws_identity = None
    cookie = request.cookies.get(current_app.config["JWT_ACCESS_COOKIE_NAME"])
    if cookie:
        try:
            claims = access_claims(cookie)
            g.ws_identity = (claims["sub"], claims["exp"], claims.get("jti"))
        except Unauthorized:
            pass  # frames may still carry a valid token
    return None


def open_sockets(app) -> OpenSockets:
    """This worker's sockets; their caps are counted in Redis across instances when it is configured."""
    if "paco_sockets" not in app.extensions:
        redis = redis_from_config(app.config)
        shared = SocketSlots(redis, app.config["PACO_REDIS_PREFIX"]) if redis is not None else None
        app.extensions["paco_sockets"] = OpenSockets(app.config["PACO_MAX_SOCKETS_PER_IP"],
                                                     app.config["PACO_MAX_SOCKETS_PER_PARTICIPANT"], shared)
    return app.extensions["paco_sockets"]


@sock.route(WS_PATH)
def chat_socket(ws):
    app = current_app._get_current_object()
    outbox = Outbox(ws)
    session = open_sockets(app).open(ws, outbox, request.remote_addr or "")
    if session is None:
        return
    identity = g.get("ws_identity")
    if identity and not session.signed_in(identity[0], identity[1]):
        session.release()
        return
    turns: Queue = Queue()
    worker = gevent.spawn(_run_turns, app, outbox, turns)
    try:
        while not session.closed:
            raw = ws.receive()
            accepted, malformed = _accept(raw, outbox, session, time.monotonic())
            if accepted is not None:
                session.busy += 1
                turns.put((session, accepted))
            if session.frame_was_malformed(malformed):
                session.end(CLOSE_POLICY, "too many malformed frames",
                            f"{MALFORMED_LIMIT} malformed frames in a row: closing this connection.")
    except ConnectionClosed:
        outbox.client_gone()
    except Exception:  # an escaping exception would write HTTP 500 onto the upgraded socket
        log.exception("chat socket failed")
        outbox.send(error("internal", "Something went wrong. Please reconnect."))
        ws.close(1011, "internal error")
    finally:
        session.release()
        db.session.remove()
        turns.put(None)
        worker.join()


def _run_turns(app, outbox: Outbox, turns: Queue) -> None:
    for session, turn in iter(turns.get, None):
        try:
            run_turn(app, outbox, turn)
        except Exception:
            log.exception("chat turn failed")
            outbox.send(error("internal", "Something went wrong with that answer. Please ask again.",
                              client_id=turn.frame.client_id))
        finally:
            session.busy -= 1


def _accept(raw, outbox: Outbox, session: ChatSession, received: float) -> tuple[TurnRequest | None, bool]:
    """Check one frame: (the turn to run, or None when the frame was answered here; whether the
    frame itself was malformed)."""
    try:
        frame = parse(raw, current_app.config["PACO_MAX_MESSAGE_CHARS"])
    except PacoError as err:
        outbox.send(error_frame(err))
        return None, True
    if frame == "ping":
        outbox.send({"type": "pong"})
        return None, False
    if stopping():
        # The worker is stopping: the socket closes with 1001 after the turn in progress, and
        # the page sends what it did not see confirmed again after reconnecting.
        return None, False
    try:
        research_id, expires, arm = _authorize(frame)
        if not session.signed_in(research_id, expires):
            return None, False
        return TurnRequest(research_id, frame, arm, received), False
    except PacoError as err:
        outbox.send(error_frame(err, client_id=frame.client_id))
    except SQLAlchemyError:
        # The database is unreachable or restarting: say so and keep the socket; the page may resend.
        log.exception("could not check a chat frame's sender")
        db.session.rollback()
        outbox.send(error("unavailable", "PaCo cannot reach its records right now. Please send it again in a moment.",
                          client_id=frame.client_id))
    finally:
        db.session.close()  # the reader holds no pooled connection between frames
    return None, False


def _authorize(frame) -> tuple[str, float, Arm]:
    """Who sent the frame (token in the frame, else the handshake's cookie), until when, and their arm."""
    if frame.token:
        claims = access_claims(frame.token)
        check_not_revoked(claims.get("jti"))
        research_id, expires = claims["sub"], claims["exp"]
    else:
        # A socket opened with the session cookie outlives nothing: the cookie's token expires
        # on the open socket exactly as it would on a new request.
        research_id, expires, jti = g.get("ws_identity") or (None, None, None)
        if research_id is None:
            raise Unauthorized("invalid_token", "Sign in first: no access token was sent.")
        if time.time() >= expires:
            raise Unauthorized("invalid_token", "Your session has expired. Please sign in again.")
        check_not_revoked(jti)
    if frame.research_id and frame.research_id != research_id:
        raise Forbidden("forbidden", "The research ID does not match your sign-in.")
    participant = authorize_participant(research_id)
    _check_rate(research_id)
    cohort = participant.cohort
    if cohort is None:
        return research_id, expires, Arm()
    return research_id, expires, Arm(cohort.llm_provider, cohort.llm_model, cohort.prompt_version,
                                     cohort.tts_enabled, cohort.tts_voice, cohort.daily_llm_tokens or 0,
                                     cohort.daily_tts_chars or 0)


def _check_rate(research_id: str) -> None:
    hit_participant_limit("chat", research_id, current_app.config["PACO_RATE_LIMIT_CHAT"], "chat_messages")
