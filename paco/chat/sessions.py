"""Who holds which chat sockets in this worker, and the rules that end a socket early.

- At most ``PACO_MAX_SOCKETS_PER_IP`` sockets from one address (signed in or not) and
  ``PACO_MAX_SOCKETS_PER_PARTICIPANT`` per research ID; the extra one is closed with 4029.
- A socket's sign-in ends when its token expires, when the participant signs out, or when the
  study pauses or withdraws the research ID: the socket is closed with 4001, within about a second
  of expiry, and the page signs in again.
- ``MALFORMED_LIMIT`` malformed frames in a row close the socket with 1008 (policy violation).

Without Redis each worker counts its own sockets; with ``REDIS_URL`` the caps hold across every
worker and instance (``paco.services.socket_slots``: slots in Redis, renewed while the socket is
open, lapsing within 30 s of a worker's death).
"""
from __future__ import annotations

import itertools
import logging
import time
import weakref
from collections import Counter, defaultdict

import gevent

from .. import metrics
from ..services import events
from ..services.socket_slots import SocketSlots
from ..services.turn_leases import new_holder
from . import inflight
from .frames import error

log = logging.getLogger("paco.security")

CLOSE_GOING_AWAY = 1001
CLOSE_SESSION_ENDED = 4001
CLOSE_TOO_MANY = 4029
CLOSE_POLICY = 1008
MALFORMED_LIMIT = 25
# The error frame sent just before each close.
ERROR_CODES = {CLOSE_SESSION_ENDED: "invalid_token", CLOSE_TOO_MANY: "too_many_connections",
               CLOSE_POLICY: "too_many_bad_frames", CLOSE_GOING_AWAY: "going_away"}
_registries: weakref.WeakSet = weakref.WeakSet()
_slot_names = itertools.count(1)


_stopping = False


def stopping() -> bool:
    """True once the worker has begun to stop: sockets then accept no new question."""
    return _stopping


def going_away(grace: float, finish: float = 3.0) -> None:
    """The worker is stopping (SIGTERM: a restart or a rolling deploy). New questions are no longer
    accepted (a page sends them again after reconnecting); idle sockets are closed with 1001 at
    once, so their pages reconnect to another worker or instance; turns in progress have ``grace``
    seconds to finish, then are interrupted and stored as ``interrupted`` (``finish`` seconds for
    that); each busy socket is closed with 1001 after its turn."""
    global _stopping
    _stopping = True
    sessions = [s for registry in list(_registries) for held in registry.by_ip_sessions.values() for s in held]
    closers = [gevent.spawn(s.close_when_idle, grace + finish) for s in sessions]
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and (inflight.running() or any(s.busy for s in sessions)):
        gevent.sleep(0.1)
    inflight.interrupt_all(finish)
    gevent.joinall(closers, timeout=finish + 1)


class ChatSession:
    """One open socket: its address, the participant it is bound to, when its sign-in ends."""

    def __init__(self, registry: "OpenSockets", ws, outbox, ip: str):
        self.registry, self.ws, self.outbox, self.ip = registry, ws, outbox, ip
        self.research_id: str | None = None
        self.expires: float | None = None
        self.malformed = 0
        self._watch: gevent.Greenlet | None = None
        self.closed = False
        self.busy = 0  # turns accepted and not yet finished
        self.slot = f"{registry.name}:{next(_slot_names)}"  # this socket's name in shared slots

    def signed_in(self, research_id: str, expires: float | None) -> bool:
        """Bind the socket to the frame's participant; False if that is one socket too many."""
        if self.research_id != research_id:
            if not self.registry.bind(self, research_id):
                return False
        if expires is not None and (self.expires is None or expires > self.expires):
            self.expires = expires
            if self._watch is not None:
                self._watch.kill(block=False)
            self._watch = gevent.spawn_later(max(0.0, expires - time.time()), self._expired)
        return True

    def frame_was_malformed(self, malformed: bool) -> bool:
        """Count malformed frames in a row; True once the socket should be closed for it."""
        self.malformed = self.malformed + 1 if malformed else 0
        return self.malformed >= MALFORMED_LIMIT

    def close_when_idle(self, grace: float) -> None:
        deadline = time.monotonic() + grace
        while self.busy and time.monotonic() < deadline:
            gevent.sleep(0.1)
        self.end(CLOSE_GOING_AWAY, "server restarting", "PaCo is restarting. Reconnecting…")

    def _expired(self) -> None:
        self.end(CLOSE_SESSION_ENDED, "session expired", "Your session has expired. Please sign in again.")

    def end(self, code: int, reason: str, message: str) -> None:
        """Say why in an ``error`` frame (its code names what the page should do), then close."""
        if self.closed:
            return
        self.closed = True
        log.info({"event": "socket_closed", "security": True, "code": code, "reason": reason})
        self.outbox.send(error(ERROR_CODES[code], message))
        try:
            self.ws.close(code, reason)
        except Exception:  # already gone
            pass

    def release(self) -> None:
        self.closed = True
        if self._watch is not None:
            self._watch.kill(block=False)
        self.registry.release(self)


class OpenSockets:
    def __init__(self, per_ip: int, per_participant: int, shared: SocketSlots | None = None):
        self.per_ip, self.per_participant = per_ip, per_participant
        self.shared = shared
        self.name = new_holder()
        self._renewer: gevent.Greenlet | None = None
        self.by_ip: Counter = Counter()
        self.by_ip_sessions: dict[str, set[ChatSession]] = defaultdict(set)
        self.by_participant: dict[str, set[ChatSession]] = defaultdict(set)
        _registries.add(self)
        events.access_changed.connect(self._access_changed)  # weakly: the app owns the registry

    def open(self, ws, outbox, ip: str) -> ChatSession | None:
        """A session for a new socket, or None (and the socket closed) past the per-address cap."""
        session = ChatSession(self, ws, outbox, ip)
        if self.per_ip and not self._take("ip", ip, session, self.per_ip, self.by_ip[ip]):
            log.warning({"event": "socket_refused", "security": True, "why": "per_ip_cap", "cap": self.per_ip})
            metrics.LIMIT_HITS.labels("sockets_per_ip").inc()
            session.end(CLOSE_TOO_MANY, "too many connections",
                        "Too many chat connections from this network. Please close another PaCo window.")
            return None
        self.by_ip[ip] += 1
        self.by_ip_sessions[ip].add(session)
        metrics.OPEN_SOCKETS.inc()
        return session

    def bind(self, session: ChatSession, research_id: str) -> bool:
        holders = self.by_participant[research_id]
        if self.per_participant and not self._take("rid", research_id, session, self.per_participant, len(holders)):
            log.warning({"event": "socket_refused", "security": True, "why": "per_participant_cap",
                         "cap": self.per_participant})
            metrics.LIMIT_HITS.labels("sockets_per_participant").inc()
            session.end(CLOSE_TOO_MANY, "too many connections",
                        "PaCo is open in too many windows. Please close one and try again.")
            return False
        if session.research_id:
            self.by_participant[session.research_id].discard(session)
            self._give_back("rid", session.research_id, session)
        session.research_id = research_id
        holders.add(session)
        return True

    def _take(self, kind: str, key: str, session: ChatSession, cap: int, here: int) -> bool:
        """Whether the socket may hold a slot: counted across instances (Redis) or in this worker."""
        if self.shared is None:
            return here < cap
        if self._renewer is None:
            self._renewer = gevent.spawn(self._renew)
        return self.shared.take(kind, key, session.slot, cap)

    def _give_back(self, kind: str, key: str, session: ChatSession) -> None:
        if self.shared is not None and (self.per_ip if kind == "ip" else self.per_participant):
            self.shared.give_back(kind, key, session.slot)

    def _renew(self) -> None:
        while True:
            gevent.sleep(self.shared.refresh_seconds)
            slots = []
            if self.per_ip:
                slots += [("ip", ip, s.slot) for ip, held in self.by_ip_sessions.items() for s in held]
            if self.per_participant:
                slots += [("rid", rid, s.slot) for rid, held in self.by_participant.items() for s in held]
            self.shared.renew(slots)

    def release(self, session: ChatSession) -> None:
        if session in self.by_ip_sessions.get(session.ip, ()):
            self._give_back("ip", session.ip, session)
        if session.research_id and session in self.by_participant.get(session.research_id, ()):
            self._give_back("rid", session.research_id, session)
        self.by_ip_sessions.get(session.ip, set()).discard(session)
        if not self.by_ip_sessions.get(session.ip, True):
            del self.by_ip_sessions[session.ip]
        if session.ip in self.by_ip:
            metrics.OPEN_SOCKETS.dec()
            self.by_ip[session.ip] -= 1
            if self.by_ip[session.ip] <= 0:
                del self.by_ip[session.ip]
        if session.research_id:
            holders = self.by_participant.get(session.research_id)
            if holders is not None:
                holders.discard(session)
                if not holders:
                    del self.by_participant[session.research_id]

    def _access_changed(self, research_id: str, **_):
        for session in list(self.by_participant.get(research_id, ())):
            session.end(CLOSE_SESSION_ENDED, "access changed",
                        "This research ID is not active any more. Please contact your study team.")
