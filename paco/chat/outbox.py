"""Sending frames on one socket from several greenlets (text stream and audio), in one order."""
from __future__ import annotations

import json
import time

from gevent.lock import Semaphore
from simple_websocket import ConnectionClosed


class Outbox:
    """Serialises sends; after the client goes away, sends become no-ops instead of errors.

    A turn keeps going when the client drops (its reply is still stored), so nothing on the
    turn's path may fail because the socket did.
    """

    def __init__(self, ws):
        self.ws = ws
        self.closed = False
        self._lock = Semaphore()

    def send(self, frame: dict) -> float | None:
        """Send one frame; returns the monotonic time it was handed to the socket, or None."""
        if self.closed:
            return None
        data = json.dumps(frame, separators=(",", ":"), ensure_ascii=False)
        with self._lock:
            if self.closed:
                return None
            try:
                self.ws.send(data)
            except (ConnectionClosed, OSError):
                self.closed = True
                return None
        return time.monotonic()
