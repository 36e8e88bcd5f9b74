"""Turn leases: a chat turn in progress is held by the worker running it, and closed by any other
instance if that worker dies (docs/architecture.md, "Several instances").

A turn's question and its lease (``turn_leases``) are committed together; its answer is committed
together with the lease's removal. In between, the worker renews the lease every few seconds
(``heartbeat``) and copies the answer's text so far into it. A lease past its ``expires_at`` means
the worker is gone (SIGKILL, a lost machine): ``close_orphan`` then stores the answer the turn
would have stored, from what was copied, as ``interrupted`` (or ``failed`` when nothing was), so
every question keeps exactly one answer and history reads question, answer, question, answer.

Removing a lease is the claim: only one of the holder (finishing late) and the instances closing
the orphan deletes the row, and only that one writes the answer. Expiry times come from the
instances' clocks, which must agree to within a second or two (NTP).
"""
from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from types import SimpleNamespace

from ..extensions import db
from ..models import TurnLease, utcnow
from . import conversations

# What an orphan's metrics row says about it (investigators filter on it).
ORPHAN_DETAIL = "closed by another worker: the worker running this turn stopped (lease {holder} expired)"


def new_holder() -> str:
    """A name for this worker process that no other process, here or elsewhere, will use."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"


@dataclass(frozen=True)
class OpenTurn:
    question_id: int
    holder: str
    expires_at: datetime


@dataclass(frozen=True)
class ClosedTurn:
    question_id: int
    answer_id: int
    conversation_id: str
    status: str  # interrupted (text was kept) or failed (none was)


@cache
def _statements() -> SimpleNamespace:
    leases = TurnLease.__table__
    question_id, holder = db.bindparam("qid"), db.bindparam("h")
    return SimpleNamespace(
        insert=db.insert(leases),
        in_conversation=db.select(leases.c.question_id, leases.c.holder, leases.c.expires_at)
        .where(leases.c.conversation_id == db.bindparam("cid")).order_by(leases.c.question_id),
        # UPDATE reserves bind names equal to column names: hence the short names.
        renew=db.update(leases).where(leases.c.holder == holder).values(expires_at=db.bindparam("until")),
        progress=db.update(leases).where(leases.c.question_id == question_id, leases.c.holder == holder)
        .values(partial=db.bindparam("text"), provider=db.bindparam("prov"), model=db.bindparam("mod"),
                prompt_version=db.bindparam("prompt")),
        release=db.delete(leases).where(leases.c.question_id == question_id, leases.c.holder == holder),
        expired=db.select(leases.c.question_id).where(leases.c.expires_at < db.bindparam("now"))
        .order_by(leases.c.expires_at).limit(db.bindparam("limit")),
        take=db.delete(leases).where(leases.c.question_id == question_id, leases.c.expires_at < db.bindparam("now"))
        .returning(leases.c.conversation_id, leases.c.holder, leases.c.partial, leases.c.provider,
                   leases.c.model, leases.c.prompt_version),
    )


def save_question(conversation_id: str, content: str, holder: str, lease_seconds: float, **fields) -> int:
    """Store a question and its turn's lease in one transaction; returns the question's id."""
    now = utcnow()
    question_id = conversations.insert_message(conversation_id, "user", content, now=now, **fields)
    db.session.execute(_statements().insert, {
        "question_id": question_id, "conversation_id": conversation_id, "holder": holder, "started_at": now,
        "expires_at": now + timedelta(seconds=lease_seconds), "partial": ""})
    db.session.commit()
    return question_id


def save_answer(question_id: int, holder: str, conversation_id: str, content: str, **fields) -> int | None:
    """Store a turn's answer and end its lease in one transaction; returns the answer's id, or
    None when the lease was gone: the turn was closed as an orphan meanwhile (its answer is that)."""
    released = db.session.execute(_statements().release, {"qid": question_id, "h": holder}).rowcount
    if not released:
        db.session.rollback()
        return None
    answer_id = conversations.insert_message(conversation_id, "assistant", content, **fields)
    db.session.commit()
    return answer_id


def open_turns(conversation_id: str) -> list[OpenTurn]:
    """The conversation's turns in progress (or orphaned), oldest first."""
    rows = db.session.execute(_statements().in_conversation, {"cid": conversation_id}).all()
    return [OpenTurn(*row) for row in rows]


@dataclass(frozen=True)
class Progress:
    question_id: int
    text: str
    provider: str | None = None
    model: str | None = None
    prompt_version: str | None = None


def heartbeat(holder: str, lease_seconds: float, progress: list[Progress] = ()) -> int:
    """Renew every lease ``holder`` holds and copy in the text of the turns that moved on;
    returns how many leases it still holds (fewer than its turns: some were closed as orphans)."""
    statements = _statements()
    held = db.session.execute(statements.renew, {"h": holder,
                                                 "until": utcnow() + timedelta(seconds=lease_seconds)}).rowcount
    if progress:
        db.session.execute(statements.progress, [
            {"qid": p.question_id, "h": holder, "text": p.text, "prov": p.provider, "mod": p.model,
             "prompt": p.prompt_version} for p in progress])
    db.session.commit()
    return held


def expired(now: datetime | None = None, limit: int = 100) -> list[int]:
    """Question ids of turns whose lease has run out, the longest-expired first."""
    rows = db.session.execute(_statements().expired, {"now": now or utcnow(), "limit": limit}).scalars().all()
    db.session.rollback()
    return list(rows)


def close_orphan(question_id: int, now: datetime | None = None) -> ClosedTurn | None:
    """Close a turn whose lease has run out with the answer it would have stored: the text copied
    so far (``interrupted``) or nothing (``failed``). None when the lease is not there or has not
    run out (the turn finished, another instance closed it, or its worker is alive after all)."""
    now = now or utcnow()
    row = db.session.execute(_statements().take, {"qid": question_id, "now": now}).first()
    if row is None:
        db.session.rollback()
        return None
    conversation_id, holder, partial, provider, model, prompt_version = row
    status = "interrupted" if partial else "failed"
    answer_id = conversations.insert_message(conversation_id, "assistant", partial, now=now, status=status,
                                             provider=provider, model=model, prompt_version=prompt_version)
    conversations.insert_turn_metrics(answer_id, response_chars=len(partial), provider_errors=0,
                                      error_detail=ORPHAN_DETAIL.format(holder=holder))
    db.session.commit()
    return ClosedTurn(question_id, answer_id, conversation_id, status)


def close_expired(now: datetime | None = None, limit: int = 100) -> list[ClosedTurn]:
    """Close every orphaned turn found (at most ``limit``); what another instance closed first is skipped."""
    closed = []
    for question_id in expired(now, limit):
        done = close_orphan(question_id, now)
        if done is not None:
            closed.append(done)
    return closed
