"""Looking up participants and deciding whether they may use PaCo."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from sqlalchemy.orm import joinedload

from ..errors import Forbidden, InvalidInput, PacoError
from ..extensions import db
from ..models import Disclaimer, DisclaimerAcknowledgment, ResearchID
from .research_id_codes import MISTYPED_MESSAGE, is_mistyped

# One wording for unknown, paused and withdrawn IDs, so that answers cannot be used to find IDs;
# true for each of them (a paused ID is not an active one).
NOT_ACCEPTED_MESSAGE = ("We could not find an active research ID like that. Check the card your study team "
                        "gave you. If it is right, please contact your study team.")
NO_CONTACT = "Please contact your study team if you have questions."


def inactive_message(participant: ResearchID) -> str:
    """What a participant whose access was paused or ended is told, with whom to contact (the
    cohort's contact text). Only for someone who proved they hold the ID: it confirms the ID exists."""
    contact = (participant.cohort.contact_text.strip() if participant.cohort else "") or NO_CONTACT
    if participant.status == "withdrawn":
        return f"Your access to PaCo has ended because you are no longer taking part in the study. {contact}"
    return f"Your study team has paused your access to PaCo for now. {contact}"


@dataclass(frozen=True)
class Standing:
    """Where a research ID stands: may it use PaCo, and must it accept a new disclaimer first?"""

    participant: ResearchID | None
    current_version: int | None   # the newest published disclaimer, None if none is published
    acknowledged: bool            # ... and whether this ID accepted it

    @property
    def active(self) -> bool:
        return self.participant is not None and self.participant.is_active

    @property
    def disclaimer_required(self) -> bool:
        return self.current_version is not None and not self.acknowledged


def _disclaimer_required() -> Forbidden:
    return Forbidden("disclaimer_required", "Please read and accept the current study disclaimer first.")


@cache
def _standing_query():
    """Built once: constructing this statement (a subquery, an EXISTS) cost more CPU than
    running it, on every chat message."""
    research_id = db.bindparam("research_id")
    current = (db.select(Disclaimer.id, Disclaimer.version).where(Disclaimer.published_at.is_not(None))
               .order_by(Disclaimer.version.desc()).limit(1).subquery())
    acknowledged = db.exists().where(DisclaimerAcknowledgment.research_id == research_id,
                                     DisclaimerAcknowledgment.disclaimer_id == current.c.id)
    return (db.select(ResearchID, current.c.version, acknowledged)
            .outerjoin(current, db.true()).options(joinedload(ResearchID.cohort))
            .where(ResearchID.research_id == research_id))


def standing(research_id: str) -> Standing:
    """One round trip (it runs before every chat turn): the participant with their arm, and
    whether they acknowledged the newest published disclaimer."""
    row = db.session.execute(_standing_query(), {"research_id": research_id}).first()
    if row is None:
        return Standing(None, None, False)
    return Standing(*row)


def not_accepted(found: Standing, research_id: str, holder: bool = False) -> PacoError:
    """The refusal for an ID that may not sign in. A request that proved it holds the ID (a token
    for it, or the device cookie set when it signed in) is told the access is paused or ended and
    whom to contact; a typing mistake in a generated ID is named as such (the check character
    tells, whatever PaCo holds); everything else gets one wording."""
    if holder and found.participant is not None:
        return Forbidden("research_id_inactive", inactive_message(found.participant))
    if found.participant is None and is_mistyped(research_id):
        return InvalidInput("research_id_mistyped", MISTYPED_MESSAGE)
    return Forbidden("research_id_not_accepted", NOT_ACCEPTED_MESSAGE)


def active_participant(research_id: str, holder: bool = False) -> ResearchID:
    """The participant if the ID exists and is active; otherwise the same 403 for every case
    (a proven holder of a paused or withdrawn ID is told so: ``not_accepted``)."""
    found = standing(research_id)
    if not found.active:
        if holder and found.participant is not None:
            raise not_accepted(found, research_id, holder)
        raise Forbidden("research_id_not_accepted", NOT_ACCEPTED_MESSAGE)
    return found.participant


def may_sign_in(research_id: str, holder: bool = False) -> None:
    """Sign-in: the ID is active (same 403 as an unknown one) and accepted the current disclaimer."""
    found = standing(research_id)
    if not found.active:
        raise not_accepted(found, research_id, holder)
    if found.disclaimer_required:
        raise _disclaimer_required()


def authorize_participant(research_id: str) -> ResearchID:
    """Checks made on every authenticated request: still active, current disclaimer acknowledged.

    Tokens outlive status changes and new disclaimer versions; checking here refuses a
    withdrawn participant at once and asks everyone to acknowledge a newly published version.
    """
    found = standing(research_id)
    if not found.active:
        # The token proves the holder knows the ID exists: say what happened and whom to contact.
        raise Forbidden("research_id_inactive", inactive_message(found.participant) if found.participant
                        else "This research ID is not active. Please contact your study team.")
    if found.disclaimer_required:
        raise _disclaimer_required()
    return found.participant
