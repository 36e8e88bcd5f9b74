"""The append-only, hash-chained audit log: appending events and verifying the chain.

Each event's hash covers its own fields and the previous event's hash, so changing, removing or
inserting a row breaks every link after it. The hash is an HMAC keyed with ``PACO_AUDIT_KEY``,
which is not in the database: someone who can write the table cannot re-chain edited events.
Signed checkpoints of the head, outside the database (``audit_checkpoints``), catch the newest
events being removed. ``record`` adds the event to the caller's transaction and never commits: a
change and its audit row are committed (or rolled back) together.
"""
from __future__ import annotations

import atexit
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from functools import partial

from sqlalchemy import event as orm_event
from sqlalchemy import inspect, text
from sqlalchemy.orm import Session

from ..extensions import db
from ..models import AuditEvent, utcnow
from .audit_checkpoints import Anchors, Checkpoint
from .transaction import committing

GENESIS_HASH = "0" * 64
# Any constant works; it only has to be the same for every writer of the chain.
_CHAIN_LOCK_KEY = 0x5041434F
# Never copied into an audit row: a short fingerprint shows that the value changed, nothing more.
SECRET_COLUMNS = frozenset({"password_hash"})
ACTOR_MAX = 254
TARGET_MAX = 255


def canonical_json(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_plain)


def _plain(value):
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, (date, Decimal)):
        return str(value)
    return repr(value)


def iso(value: datetime) -> str:
    return value.astimezone(timezone.utc).isoformat()


class _Chain:
    """The process's key and checkpoint sinks (``configure``, called by the app at start)."""

    key: bytes | None = None
    anchors: Anchors | None = None


def configure(key: str | bytes, anchors: Anchors | None = None) -> None:
    _Chain.key = key.encode() if isinstance(key, str) else key
    _Chain.anchors = anchors


@atexit.register
def _flush_checkpoints() -> None:
    """A CLI run's last events are covered by a checkpoint before the process exits."""
    if _Chain.anchors is not None:
        _Chain.anchors.flush()


def event_hash(prev_hash: str, at: datetime, actor: str, action: str, target: str,
               detail: str, ip: str | None, key: bytes | None = None) -> str:
    """HMAC-SHA256 with the chain key; plain SHA-256 (``key=None``) for events written before
    the chain was keyed."""
    payload = canonical_json({"prev_hash": prev_hash, "at": iso(at), "actor": actor,
                              "action": action, "target": target, "detail": detail, "ip": ip}).encode("utf-8")
    if key is None:
        return hashlib.sha256(payload).hexdigest()
    return hmac.new(key, payload, hashlib.sha256).hexdigest()


def _chain_key() -> bytes:
    if _Chain.key is None:
        raise RuntimeError("the audit chain's key is not configured (paco.services.audit.configure)")
    return _Chain.key


def lock_chain(session=None) -> None:
    """Serialise appends so two writers can never both extend the same last event.

    The lock lasts until the transaction ends. (A unique ``prev_hash`` also makes a fork
    impossible in the database itself; the lock just turns that error into waiting.)
    """
    session = session or db.session
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK_KEY})
    elif dialect == "sqlite":
        # SQLite reads without a write lock; a no-op write takes it before the last hash is read.
        session.execute(text("UPDATE audit_events SET id = id WHERE 0"))


def record(actor: str, action: str, target: str = "", detail: dict | None = None,
           ip: str | None = None) -> AuditEvent:
    """Append one event to the current transaction; the caller commits."""
    session = db.session
    lock_chain(session)
    last = session.execute(
        db.select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).scalar()
    event = AuditEvent(at=utcnow(), actor=(actor or "")[:ACTOR_MAX], action=action,
                       target=(target or "")[:TARGET_MAX], detail=canonical_json(detail or {}),
                       ip=ip, prev_hash=last or GENESIS_HASH)
    event.hash = event_hash(event.prev_hash, event.at, event.actor, event.action, event.target,
                            event.detail, event.ip, _chain_key())
    session.add(event)
    session.flush()  # the next event in this transaction must see this one as the last
    session.info["audit_head"] = (event.id, event.hash)
    return event


@orm_event.listens_for(Session, "after_commit")
def _anchor_committed_head(session) -> None:
    head = session.info.pop("audit_head", None)
    if head is not None and _Chain.anchors is not None:
        _Chain.anchors.committed(*head)


@orm_event.listens_for(Session, "after_rollback")
def _forget_rolled_back_head(session) -> None:
    session.info.pop("audit_head", None)


# --- describing changes ----------------------------------------------------------------------

def snapshot(obj) -> dict:
    """The row's column values, JSON-ready; secrets are replaced by a fingerprint."""
    mapper = inspect(obj).mapper
    values = {}
    for column in mapper.column_attrs:
        key = column.key
        value = getattr(obj, key)
        if key in SECRET_COLUMNS and value:
            value = "fingerprint:" + hashlib.sha256(value.encode("utf-8")).hexdigest()[:12]
        values[key] = json.loads(canonical_json(value))
    return values


def changes(before: dict, after: dict) -> dict:
    """Only the columns whose values differ: ``{"before": {...}, "after": {...}}``."""
    keys = sorted(k for k in after if before.get(k) != after.get(k))
    return {"before": {k: before.get(k) for k in keys}, "after": {k: after[k] for k in keys}}


# Natural keys read better in the log than numeric ids, where they never change.
_TARGET_KEYS = {"research_ids": "research_id", "staff_users": "email", "disclaimers": "version"}


def target_of(obj) -> str:
    table = obj.__tablename__
    return f"{table}:{getattr(obj, _TARGET_KEYS.get(table, 'id'))}"


# --- audited writes: the change and its event in one commit ---------------------------------

def create(obj, actor: str, ip: str | None, extra: dict | None = None):
    with committing() as session:
        session.add(obj)
        session.flush()
        record(actor, "create", target_of(obj), {"after": snapshot(obj), **(extra or {})}, ip)
    return obj


def update(obj, apply, actor: str, ip: str | None, extra: dict | None = None) -> bool:
    """Run ``apply(obj)``, then commit it with an event naming the changed columns.

    Returns False (and records nothing) when nothing changed.
    """
    before = snapshot(obj)
    with committing() as session:
        apply(obj)
        session.flush()
        diff = changes(before, snapshot(obj))
        if not diff["after"] and not extra:
            session.rollback()  # the commit that follows has nothing left to write
            return False
        record(actor, "update", target_of(obj), {**diff, **(extra or {})}, ip)
    return True


def delete(obj, actor: str, ip: str | None) -> None:
    target, before = target_of(obj), snapshot(obj)
    with committing() as session:
        session.delete(obj)
        session.flush()
        record(actor, "delete", target, {"before": before}, ip)


def record_and_commit(actor: str, action: str, target: str = "", detail: dict | None = None,
                      ip: str | None = None) -> AuditEvent:
    """An event that records no data change of its own (a sign-in, an export)."""
    with committing():
        return record(actor, action, target, detail, ip)


# --- verification ---------------------------------------------------------------------------

@dataclass
class ChainReport:
    checked: int
    broken_id: int | None = None
    reason: str = ""
    legacy: int = 0       # unkeyed events, written before the chain was keyed
    checkpoints: int = 0  # signed checkpoints the chain was held to

    @property
    def intact(self) -> bool:
        return self.broken_id is None


def verify_chain(batch: int = 1000, checkpoints: list[Checkpoint] | None = None) -> ChainReport:
    """Walk the log in order; report the first event whose link or contents do not match, or
    the first checkpoint whose event is missing or different."""
    key, anchors = _chain_key(), _Chain.anchors
    if checkpoints is None:
        checkpoints = anchors.read() if anchors is not None else []
    for checkpoint in checkpoints:
        if anchors is None or not anchors.genuine(checkpoint):
            return ChainReport(0, checkpoint.event_id, "a checkpoint's signature does not match: the checkpoint "
                               "record was edited or signed with another key", checkpoints=len(checkpoints))
    wanted = {c.event_id: c.hash for c in checkpoints}
    expected_prev, checked, legacy, keyed_seen = GENESIS_HASH, 0, 0, False
    rows = db.session.execute(
        db.select(AuditEvent).order_by(AuditEvent.id)
        .execution_options(yield_per=batch, populate_existing=True)  # the rows as stored now
    ).scalars()
    for event in rows:
        report = partial(ChainReport, checked, event.id, legacy=legacy, checkpoints=len(checkpoints))
        if event.prev_hash != expected_prev:
            return report("it does not point to the event before it: an event was removed, inserted "
                          "or changed before it")
        fields = (event.prev_hash, event.at, event.actor, event.action, event.target, event.detail, event.ip)
        if hmac.compare_digest(event_hash(*fields, key), event.hash):
            keyed_seen = True
        elif not keyed_seen and event_hash(*fields) == event.hash:
            legacy += 1  # written before the chain was keyed; later keyed events still vouch for it
        else:
            return report("its contents do not match its hash: the row was changed")
        if wanted.pop(event.id, event.hash) != event.hash:
            return report("it differs from the signed checkpoint of it: the row was rewritten")
        expected_prev = event.hash
        checked += 1
    if wanted:
        first = min(wanted)
        return ChainReport(checked, first, f"a signed checkpoint names event {first}, which is missing: "
                           "events were removed from the end of the log (or the table was emptied)",
                           legacy=legacy, checkpoints=len(checkpoints))
    return ChainReport(checked, legacy=legacy, checkpoints=len(checkpoints))


def anchor_now() -> Checkpoint | None:
    """Write a checkpoint of the current head (``flask audit anchor``); None for an empty log."""
    head = db.session.execute(
        db.select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).first()
    if head is None or _Chain.anchors is None:
        return None
    return _Chain.anchors.write(head.id, head.hash)
