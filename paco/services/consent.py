"""Disclaimer versions and acknowledgments."""
from __future__ import annotations

import hashlib

from ..errors import ApiError
from ..extensions import db
from ..models import Disclaimer, DisclaimerAcknowledgment, utcnow
from . import audit

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
    db.session.add(ack)
    db.session.commit()
    return ack


def create_draft(text: str) -> Disclaimer:
    text = text.strip()
    if not text:
        raise ApiError(400, "empty_disclaimer", "A disclaimer needs some text.")
    latest = db.session.execute(db.select(db.func.max(Disclaimer.version))).scalar() or 0
    draft = Disclaimer(version=latest + 1, text=text, content_hash=content_hash(text))
    db.session.add(draft)
    db.session.commit()
    return draft


def publish(disclaimer: Disclaimer) -> Disclaimer:
    """Publish a draft. From now on login asks everyone for an acknowledgment of this version."""
    if disclaimer.published_at is not None:
        raise ApiError(409, "already_published", f"Disclaimer v{disclaimer.version} is already published.")
    newer = current_disclaimer()
    if newer is not None and newer.version > disclaimer.version:
        raise ApiError(409, "outdated_draft",
                       f"v{newer.version} is already published; make a new version instead.")
    disclaimer.content_hash = content_hash(disclaimer.text)
    disclaimer.published_at = utcnow()
    db.session.commit()
    return disclaimer


# --- staff changes to disclaimer versions, each committed with its audit event ---------------
# create_draft and publish commit; the event is added to the transaction first, so their
# commit carries both (and a refusal rolls both back).

def _audited(actor: str, action: str, target: str, detail: dict, ip: str | None, change):
    try:
        audit.record(actor, action, target, detail, ip)
        return change()
    except Exception:
        db.session.rollback()
        raise


def create_draft_audited(text: str, actor: str, ip: str | None) -> Disclaimer:
    text = (text or "").strip()
    if not text:
        raise ApiError(400, "empty_disclaimer", "A disclaimer needs some text.")
    audit.lock_chain()  # every audited write waits here, so the version read below stays the next one
    version = (db.session.execute(db.select(db.func.max(Disclaimer.version))).scalar() or 0) + 1
    detail = {"after": {"version": version, "text": text, "content_hash": content_hash(text)}}
    return _audited(actor, "create", f"disclaimers:{version}", detail, ip, lambda: create_draft(text))


def publish_audited(disclaimer: Disclaimer, actor: str, ip: str | None) -> Disclaimer:
    if disclaimer.published_at is not None:
        raise ApiError(409, "already_published", f"Disclaimer v{disclaimer.version} is already published.")
    detail = {"version": disclaimer.version, "content_hash": content_hash(disclaimer.text)}
    return _audited(actor, "disclaimer.publish", f"disclaimers:{disclaimer.version}", detail, ip,
                    lambda: publish(disclaimer))


def published_change_problem(disclaimer: Disclaimer) -> str | None:
    if disclaimer.published_at is not None:
        return (f"Disclaimer v{disclaimer.version} is published and is never changed or deleted; "
                "make a new version instead.")
    return None


def edit_draft(disclaimer: Disclaimer, text: str, actor: str, ip: str | None) -> bool:
    problem = published_change_problem(disclaimer)
    text = (text or "").strip()
    if problem or not text:
        raise ApiError(409 if problem else 400, "not_editable" if problem else "empty_disclaimer",
                       problem or "A disclaimer needs some text.")

    def apply(draft):
        draft.text = text
        draft.content_hash = content_hash(text)

    return audit.update(disclaimer, apply, actor, ip)
