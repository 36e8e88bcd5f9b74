"""Sending frames on one socket from several greenlets (text stream and audio), in one order."""
from __future__ import annotations

import time

from gevent.lock import Semaphore
from simple_websocket import ConnectionClosed

from .frames import encode


class WholeFrameSocket:
    """The socket simple-websocket writes to, made to write whole frames, one at a time.

    simple-websocket writes with ``sock.send()`` and ignores how much was sent: when a slow
    phone lets the kernel buffer fill, the rest of a 40 kB audio frame would be dropped and the
    stream corrupted. Here every write is a ``sendall`` under one lock, so a frame is never cut
    and a ping from simple-websocket's own greenlet never lands inside another frame.
    """

    def __init__(self, sock):
        self._sock = sock
        self._lock = Semaphore()

    def send(self, data, *args) -> int:
        with self._lock:
            self._sock.sendall(data, *args)
        return len(data)

    def __getattr__(self, name):
        return getattr(self._sock, name)


class Outbox:
    """JSON frames to one client; after the client goes away, sends become no-ops, not errors.

    When the client drops, the turn stops paying for its reply (the provider stream is closed)
    but still stores what it has, so nothing on the turn's path may fail because the socket did.
    """

    def __init__(self, ws):
        ws.sock = WholeFrameSocket(ws.sock)
        self.ws = ws
        self.closed = False

    def client_gone(self) -> None:
        """The reader saw the client go: the turn in progress stops at its next token."""
        self.closed = True

    def send(self, frame: dict | str) -> float | None:
        """Send one frame (a dict, or one already encoded); returns the monotonic time it was
        handed to the socket, or None."""
        if self.closed:
            return None
        try:
            self.ws.send(frame if isinstance(frame, str) else encode(frame))
        except (ConnectionClosed, OSError):
            self.closed = True
            return None
        return time.monotonic()
