"""Disclaimer versions and acknowledgments."""
from __future__ import annotations

import hashlib

from sqlalchemy.exc import IntegrityError

from ..errors import Conflict, InvalidInput
from ..extensions import db
from ..models import Disclaimer, DisclaimerAcknowledgment, utcnow
from . import audit
from .transaction import committing

USER_AGENT_MAX = 512


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def current_disclaimer() -> Disclaimer | None:
    """The newest published version; drafts never count."""
    return db.session.execute(
        db.select(Disclaimer)
        .where(Disclaimer.published_at.is_not(None))
        .order_by(Disclaimer.version.desc())
        .limit(1)
    ).scalar_one_or_none()


def has_acknowledged(research_id: str, disclaimer: Disclaimer) -> bool:
    return db.session.execute(
        db.select(DisclaimerAcknowledgment.id)
        .where(DisclaimerAcknowledgment.research_id == research_id,
               DisclaimerAcknowledgment.disclaimer_id == disclaimer.id)
        .limit(1)
    ).first() is not None


def acknowledge(research_id: str, disclaimer: Disclaimer, user_agent: str) -> DisclaimerAcknowledgment | None:
    """Record that the participant accepted this version; a repeat of the same version adds nothing."""
    if has_acknowledged(research_id, disclaimer):
        return None
    ack = DisclaimerAcknowledgment(
        research_id=research_id, disclaimer_id=disclaimer.id, version=disclaimer.version,
        content_hash=disclaimer.content_hash, user_agent=(user_agent or "")[:USER_AGENT_MAX],
        acknowledged_at=utcnow(),
    )
    try:
        with committing() as session:
            session.add(ack)
    except IntegrityError:  # the same acknowledgment, sent twice at once: the database kept one
        return None
    return ack


# Staff changes to disclaimer versions: each commits together with its audit event.

def create_draft(text: str, actor: str, ip: str | None) -> Disclaimer:
    text = (text or "").strip()
    if not text:
        raise InvalidInput("empty_disclaimer", "A disclaimer needs some text.")
    audit.lock_chain()  # every audited write waits here, so the version read below stays the next one
    latest = db.session.execute(db.select(db.func.max(Disclaimer.version))).scalar() or 0
    return audit.create(Disclaimer(version=latest + 1, text=text, content_hash=content_hash(text)), actor, ip)


def publish(disclaimer: Disclaimer, actor: str, ip: str | None) -> Disclaimer:
    """Publish a draft. From now on login asks everyone for an acknowledgment of this version."""
    if disclaimer.published_at is not None:
        raise Conflict("already_published", f"Disclaimer v{disclaimer.version} is already published.")
    newer = current_disclaimer()
    if newer is not None and newer.version > disclaimer.version:
        raise Conflict("outdated_draft",
                       f"v{newer.version} is already published; make a new version instead.")
    with committing():
        disclaimer.content_hash = content_hash(disclaimer.text)
        disclaimer.published_at = utcnow()
        audit.record(actor, "disclaimer.publish", audit.target_of(disclaimer),
                     {"version": disclaimer.version, "content_hash": disclaimer.content_hash}, ip)
    return disclaimer


def published_change_problem(disclaimer: Disclaimer) -> str | None:
    if disclaimer.published_at is not None:
        return (f"Disclaimer v{disclaimer.version} is published and is never changed or deleted; "
                "make a new version instead.")
    return None


def edit_draft(disclaimer: Disclaimer, text: str, actor: str, ip: str | None) -> bool:
    problem = published_change_problem(disclaimer)
    text = (text or "").strip()
    if problem:
        raise Conflict("not_editable", problem)
    if not text:
        raise InvalidInput("empty_disclaimer", "A disclaimer needs some text.")

    def apply(draft):
        draft.text = text
        draft.content_hash = content_hash(text)

    return audit.update(disclaimer, apply, actor, ip)
