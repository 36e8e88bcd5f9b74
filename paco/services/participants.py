"""Looking up participants and deciding whether they may use PaCo."""
from __future__ import annotations

from sqlalchemy.orm import joinedload

from ..errors import ApiError
from ..extensions import db
from ..models import Disclaimer, DisclaimerAcknowledgment, ResearchID
from .consent import current_disclaimer, has_acknowledged

# One wording for unknown, paused and withdrawn IDs, so that answers cannot be used to find IDs.
NOT_ACCEPTED_MESSAGE = ("We could not find that research ID. "
                        "Check the card your study team gave you.")


def find_participant(research_id: str) -> ResearchID | None:
    return db.session.execute(
        db.select(ResearchID).where(ResearchID.research_id == research_id)
    ).scalar_one_or_none()


def active_participant(research_id: str) -> ResearchID:
    """The participant if the ID exists and is active; otherwise the same 403 for every case."""
    participant = find_participant(research_id)
    if participant is None or not participant.is_active:
        raise ApiError(403, "research_id_not_accepted", NOT_ACCEPTED_MESSAGE)
    return participant


def authorize_participant(research_id: str) -> ResearchID:
    """Checks made on every authenticated request: still active, current disclaimer acknowledged.

    Tokens outlive status changes and new disclaimer versions; checking here refuses a
    withdrawn participant at once and asks everyone to acknowledge a newly published version.
    """
    # One round trip (it runs before every chat turn): the participant with their arm, and
    # whether they acknowledged the newest published disclaimer, if there is one.
    current = (db.select(Disclaimer.id).where(Disclaimer.published_at.is_not(None))
               .order_by(Disclaimer.version.desc()).limit(1).scalar_subquery())
    acknowledged = db.exists().where(DisclaimerAcknowledgment.research_id == research_id,
                                     DisclaimerAcknowledgment.disclaimer_id == current)
    row = db.session.execute(
        db.select(ResearchID, current, acknowledged).options(joinedload(ResearchID.cohort))
        .where(ResearchID.research_id == research_id)
    ).first()
    if row is None or not row[0].is_active:
        raise ApiError(403, "research_id_inactive",
                       "This research ID is not active. Please contact your study team.")
    participant, current_id, has_acked = row
    if current_id is not None and not has_acked:
        raise ApiError(403, "disclaimer_required",
                       "Please read and accept the current study disclaimer first.")
    return participant


def require_current_acknowledgment(research_id: str) -> None:
    disclaimer = current_disclaimer()
    if disclaimer is not None and not has_acknowledged(research_id, disclaimer):
        raise ApiError(403, "disclaimer_required",
                       "Please read and accept the current study disclaimer first.")
