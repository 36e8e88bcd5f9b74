"""This worker's chat turns in progress, and its share of looking after every instance's.

One ``TurnKeeper`` per app and worker process (``keeper(app)``):

- every ``PACO_TURN_HEARTBEAT_SECONDS`` it renews the leases of the turns it runs and copies the
  text each answer has so far into its lease (one UPDATE for all, one more for those that moved on);
- every ``PACO_TURN_SWEEP_SECONDS`` (with jitter) it closes turns whose lease has run out: their
  worker died, here or on another instance (``paco.services.turn_leases``);
- before a new question is stored, ``settle`` closes the conversation's orphaned turns and waits
  (at most a lease's length) for one still held elsewhere, so history reads question, answer;
- on SIGTERM, ``interrupt_all`` stops the turns still running when the grace period is over: each
  stores what it has as ``interrupted`` (or ``failed``) and ends its lease itself.

A dead worker's turn is closed within lease + 1.2 x sweep + heartbeat (37 s with the defaults;
``paco.config.check_leases`` keeps it under 60 s).
"""
from __future__ import annotations

import logging
import random
import time
import weakref
from typing import Protocol

import gevent
from flask import Flask

from .. import metrics
from ..extensions import db
from ..services import turn_leases

log = logging.getLogger("paco.chat.inflight")
_keepers: weakref.WeakSet = weakref.WeakSet()


class RunningTurn(Protocol):
    def progress(self) -> turn_leases.Progress | None: ...

    def interrupt(self) -> None: ...


class TurnStopped(BaseException):
    """Thrown into a turn waiting for its answer when the worker stops (SIGTERM's grace is over).
    Like gevent.Timeout, not an Exception: nothing on the provider's path may swallow it."""


class LeasedTurn:
    """What a chat turn (``paco.chat.turn.Turn``) needs to hold a lease and to be stopped.

    The turn sets ``question_id`` once its question is stored, appends the answer's text to
    ``parts`` and sets ``source`` to the answer; it waits for its provider only through
    ``_next``, the one place where ``interrupt`` may throw ``TurnStopped`` in.
    """

    def hold_leases(self, keeper: "TurnKeeper") -> None:
        self.keeper = keeper
        self.question_id: int | None = None
        self.parts: list[str] = []
        self.source = None
        self._greenlet = None
        self._waiting = False  # waiting for the provider (the only time a stop is thrown in)
        self._stopping = False

    def progress(self) -> turn_leases.Progress | None:
        """What the answer has so far, for the lease's heartbeat."""
        if self.question_id is None:
            return None
        source = self.source
        return turn_leases.Progress(self.question_id, "".join(self.parts), source.provider if source else None,
                                    source.model if source else None, source.prompt_version if source else None)

    def interrupt(self) -> None:
        """Stop the answer where it is (the worker is stopping); the turn stores it as interrupted."""
        self._stopping = True
        if self._waiting:
            gevent.get_hub().loop.run_callback(self._throw)

    def _throw(self) -> None:
        # Checked again here: only a turn still waiting for its provider is interrupted this way
        # (never one half-way through sending a frame); one relaying stops at its next delta.
        if self._waiting and self._greenlet is not None and not self._greenlet.dead:
            self._greenlet.throw(TurnStopped())

    def _next(self, get):
        """``get()`` (the answer, or its next delta), interruptible while it waits."""
        self._waiting = True
        try:
            return get()
        finally:
            self._waiting = False


class TurnKeeper:
    def __init__(self, app: Flask):
        self.app = app
        self.holder = turn_leases.new_holder()
        self.lease_seconds = app.config["PACO_TURN_LEASE_SECONDS"]
        self.heartbeat_seconds = app.config["PACO_TURN_HEARTBEAT_SECONDS"]
        self.sweep_seconds = app.config["PACO_TURN_SWEEP_SECONDS"]
        self.turns: dict[int, RunningTurn] = {}
        self._copied: dict[int, int] = {}  # question id -> length of the text last copied
        self._loop: gevent.Greenlet | None = None
        _keepers.add(self)

    def start(self) -> None:
        """Start heartbeats and sweeps in this worker (once; a forked worker starts its own)."""
        if self._loop is None or self._loop.dead:
            self._loop = gevent.spawn(self._run)

    def add(self, question_id: int, turn: RunningTurn) -> None:
        self.turns[question_id] = turn
        self.start()

    def discard(self, question_id: int) -> None:
        self.turns.pop(question_id, None)
        self._copied.pop(question_id, None)

    def settle(self, conversation_id: str, open_turns: list[turn_leases.OpenTurn]) -> None:
        """Before a new question: close the conversation's orphaned turns; wait for one still held
        (another tab, or a worker that died less than a lease ago) until it ends or its lease runs out."""
        deadline = time.monotonic() + self.lease_seconds + self.heartbeat_seconds
        while open_turns:
            for turn in open_turns:
                self._close(turn.question_id)
            open_turns = turn_leases.open_turns(conversation_id)
            db.session.close()
            if not open_turns or time.monotonic() > deadline:
                return
            gevent.sleep(0.5)

    def _run(self) -> None:
        next_sweep = time.monotonic() + random.uniform(0.2, 1.0) * self.sweep_seconds
        while True:
            gevent.sleep(self.heartbeat_seconds)
            with self.app.app_context():
                try:
                    if self.turns:
                        self.beat()
                    if time.monotonic() >= next_sweep:
                        next_sweep = time.monotonic() + random.uniform(0.8, 1.2) * self.sweep_seconds
                        self.sweep()
                except Exception:  # the database may be away for a moment: try again next beat
                    log.exception("turn leases: heartbeat or sweep failed")
                    db.session.rollback()
                finally:
                    db.session.remove()

    def beat(self) -> None:
        progress = []
        for question_id, turn in list(self.turns.items()):
            now = turn.progress()
            if now is not None and len(now.text) != self._copied.get(question_id, -1):
                progress.append(now)
        held = turn_leases.heartbeat(self.holder, self.lease_seconds, progress)
        for item in progress:
            self._copied[item.question_id] = len(item.text)
        if held < len(self.turns):
            log.warning({"event": "turn_leases_lost", "held": held, "running": len(self.turns)})

    def sweep(self) -> None:
        for question_id in turn_leases.expired():
            self._close(question_id)

    def _close(self, question_id: int) -> None:
        closed = turn_leases.close_orphan(question_id)
        if closed is not None:
            metrics.ORPHANS_CLOSED.labels(closed.status).inc()
            log.warning({"event": "orphan_turn_closed", "question_id": question_id, "answer_id": closed.answer_id,
                         "status": closed.status})


def running() -> bool:
    """Whether any turn is running in this worker."""
    return any(k.turns for k in list(_keepers))


def interrupt_all(wait: float) -> None:
    """Interrupt every turn running in this worker (each app's); wait up to ``wait`` s for them to store."""
    for k in list(_keepers):
        for turn in list(k.turns.values()):
            turn.interrupt()
    deadline = time.monotonic() + wait
    while running() and time.monotonic() < deadline:
        gevent.sleep(0.05)


def keeper(app: Flask) -> TurnKeeper:
    if "paco_turns" not in app.extensions:
        app.extensions["paco_turns"] = TurnKeeper(app)
    return app.extensions["paco_turns"]
