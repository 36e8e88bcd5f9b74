"""The append-only, hash-chained audit log: appending events and verifying the chain.

Each event's hash covers its own fields and the previous event's hash, so changing, removing or
inserting a row breaks every link after it. ``record`` adds the event to the caller's
transaction and never commits: a change and its audit row are committed (or rolled back)
together.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal

from sqlalchemy import inspect, text

from ..extensions import db
from ..models import AuditEvent, utcnow
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


def event_hash(prev_hash: str, at: datetime, actor: str, action: str, target: str,
               detail: str, ip: str | None) -> str:
    payload = canonical_json({"prev_hash": prev_hash, "at": iso(at), "actor": actor,
                              "action": action, "target": target, "detail": detail, "ip": ip})
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


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
                            event.detail, event.ip)
    session.add(event)
    session.flush()  # the next event in this transaction must see this one as the last
    return event


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

    @property
    def intact(self) -> bool:
        return self.broken_id is None


def verify_chain(batch: int = 1000) -> ChainReport:
    """Walk the log in order; report the first event whose link or contents do not match."""
    expected_prev = GENESIS_HASH
    checked = 0
    rows = db.session.execute(
        db.select(AuditEvent).order_by(AuditEvent.id)
        .execution_options(yield_per=batch, populate_existing=True)  # the rows as stored now
    ).scalars()
    for event in rows:
        if event.prev_hash != expected_prev:
            reason = ("it does not point to the event before it: an event was removed, inserted "
                      "or changed before it")
            return ChainReport(checked, event.id, reason)
        actual = event_hash(event.prev_hash, event.at, event.actor, event.action, event.target,
                            event.detail, event.ip)
        if actual != event.hash:
            return ChainReport(checked, event.id, "its contents do not match its hash: the row was changed")
        expected_prev = event.hash
        checked += 1
    return ChainReport(checked)
