"""Running the study: research-ID status changes, cohort moves, guarded deletes, the summary.

Every change is committed together with its audit event (paco.services.audit).
"""
from __future__ import annotations

from ..errors import Conflict, InvalidInput, NotFound
from ..extensions import db
from ..models import (
    PARTICIPANT_STATUSES,
    AdherenceRecord,
    Checkin,
    Cohort,
    Conversation,
    DisclaimerAcknowledgment,
    ResearchID,
    utcnow,
)
from ..validation import normalise_research_id, research_id_problem
from . import audit, events
from .consent import current_disclaimer
from .transaction import committing

LLM_PROVIDERS = ("curated", "openai", "groq")
PROMPT_VERSION_MAX = 40
# Bulk actions name their verb; the status each one sets.
STATUS_ACTIONS = {"activate": "active", "pause": "paused", "withdraw": "withdrawn"}


def clean_research_id(value: str) -> str:
    value = normalise_research_id(value or "")
    problem = research_id_problem(value)
    if problem:
        raise InvalidInput("invalid_research_id", problem)
    return value


def new_research_id(research_id: str, cohort: Cohort | None, status: str = "active") -> ResearchID:
    research_id = clean_research_id(research_id)
    if status not in PARTICIPANT_STATUSES:
        raise InvalidInput("invalid_status", f"The status must be one of: {', '.join(PARTICIPANT_STATUSES)}.")
    exists = db.session.execute(
        db.select(ResearchID.id).where(ResearchID.research_id == research_id)
    ).first()
    if exists:
        raise Conflict("research_id_exists", f"Research ID {research_id} already exists.")
    now = utcnow()
    return ResearchID(research_id=research_id, cohort=cohort, status=status, enrolled_at=now,
                      status_changed_at=now)


def note_status_change(participant: ResearchID, old_status: str | None) -> None:
    """Call after editing a research ID: keeps ``status_changed_at`` true to the status."""
    if participant.status not in PARTICIPANT_STATUSES:
        raise InvalidInput("invalid_status", f"The status must be one of: {', '.join(PARTICIPANT_STATUSES)}.")
    if participant.status != old_status:
        participant.status_changed_at = utcnow()
        if participant.status != "active":
            events.access_changed.send(participant.research_id)


def _load(research_ids: list[str]) -> list[ResearchID]:
    wanted = sorted({normalise_research_id(r) for r in research_ids})
    if not wanted:
        raise InvalidInput("no_research_ids", "Select at least one research ID.")
    found = db.session.execute(
        db.select(ResearchID).where(ResearchID.research_id.in_(wanted)).order_by(ResearchID.research_id)
    ).scalars().all()
    missing = sorted(set(wanted) - {p.research_id for p in found})
    if missing:
        raise NotFound("unknown_research_ids", "Unknown research IDs: " + ", ".join(missing))
    return found


def set_status(research_ids: list[str], verb: str, actor: str, ip: str | None) -> int:
    """Activate, pause or withdraw research IDs at once; returns how many actually changed."""
    if verb not in STATUS_ACTIONS:
        raise InvalidInput("unknown_action", f"Unknown action {verb!r}.")
    status = STATUS_ACTIONS[verb]
    participants = _load(research_ids)
    now = utcnow()
    before = {p.research_id: p.status for p in participants}
    changed = [p for p in participants if p.status != status]
    for participant in changed:
        participant.status = status
        participant.status_changed_at = now
    count = _commit_bulk(actor, ip, f"bulk.{verb}", {
        "status": status, "research_ids": sorted(before), "before": before,
        "changed": [p.research_id for p in changed],
    }, len(changed))
    if status != "active":
        for participant in changed:
            events.access_changed.send(participant.research_id)
    return count


def move_to_cohort(research_ids: list[str], cohort_id: int, actor: str, ip: str | None) -> int:
    cohort = db.session.get(Cohort, cohort_id)
    if cohort is None:
        raise NotFound("unknown_cohort", "That cohort does not exist.")
    participants = _load(research_ids)
    before = {p.research_id: p.cohort_id for p in participants}
    changed = [p for p in participants if p.cohort_id != cohort.id]
    for participant in changed:
        participant.cohort_id = cohort.id
    return _commit_bulk(actor, ip, "bulk.move_cohort", {
        "cohort_id": cohort.id, "cohort": cohort.name, "research_ids": sorted(before),
        "before": before, "changed": [p.research_id for p in changed],
    }, len(changed))


def _commit_bulk(actor, ip, action, detail, count) -> int:
    with committing():
        audit.record(actor, action, "research_ids", detail, ip)
    return count


# --- deletes that would lose study data are refused ----------------------------------------

def research_id_delete_problem(participant: ResearchID) -> str | None:
    uses = []
    for model, label in ((DisclaimerAcknowledgment, "disclaimer acknowledgments"),
                         (Conversation, "conversations"), (AdherenceRecord, "adherence records"),
                         (Checkin, "check-ins")):
        count = db.session.execute(
            db.select(db.func.count()).select_from(model).where(model.research_id == participant.research_id)
        ).scalar()
        if count:
            uses.append(f"{count} {label}")
    if uses:
        return (f"{participant.research_id} has {', '.join(uses)} and cannot be deleted: "
                "study records are kept. Withdraw it instead.")
    return None


def cohort_delete_problem(cohort: Cohort) -> str | None:
    count = db.session.execute(
        db.select(db.func.count(ResearchID.id)).where(ResearchID.cohort_id == cohort.id)
    ).scalar()
    if count:
        return (f"Cohort {cohort.name!r} still has {count} research IDs; "
                "move them to another cohort first.")
    return None


def cohort_settings_problem(cohort: Cohort) -> str | None:
    if cohort.llm_provider and cohort.llm_provider not in LLM_PROVIDERS:
        return f"The LLM provider must be one of: {', '.join(LLM_PROVIDERS)} (or empty for the server default)."
    if cohort.prompt_version and len(cohort.prompt_version) > PROMPT_VERSION_MAX:
        return f"The prompt version is longer than {PROMPT_VERSION_MAX} characters."
    return None


# --- the study at a glance -------------------------------------------------------------------

def pending_acknowledgment_filter():
    """SQL condition: the research ID has not acknowledged the current disclaimer version."""
    disclaimer = current_disclaimer()
    if disclaimer is None:
        return db.false()
    acknowledged = db.select(DisclaimerAcknowledgment.research_id).where(
        DisclaimerAcknowledgment.disclaimer_id == disclaimer.id)
    return ResearchID.research_id.not_in(acknowledged)


def acknowledged_current(research_ids: list[str]) -> set[str] | None:
    """Which of these research IDs acknowledged the current version (None: nothing published)."""
    disclaimer = current_disclaimer()
    if disclaimer is None:
        return None
    if not research_ids:
        return set()
    return set(db.session.execute(
        db.select(DisclaimerAcknowledgment.research_id).where(
            DisclaimerAcknowledgment.disclaimer_id == disclaimer.id,
            DisclaimerAcknowledgment.research_id.in_(research_ids))
    ).scalars())


def study_summary() -> dict:
    by_status = dict.fromkeys(PARTICIPANT_STATUSES, 0)
    by_status.update(db.session.execute(
        db.select(ResearchID.status, db.func.count(ResearchID.id)).group_by(ResearchID.status)
    ).all())
    disclaimer = current_disclaimer()
    pending = db.session.execute(
        db.select(db.func.count(ResearchID.id))
        .where(ResearchID.status == "active", pending_acknowledgment_filter())
    ).scalar()
    cohorts = db.session.execute(
        db.select(Cohort.name, db.func.count(ResearchID.id))
        .outerjoin(ResearchID, ResearchID.cohort_id == Cohort.id)
        .group_by(Cohort.id, Cohort.name).order_by(Cohort.name)
    ).all()
    return {
        "by_status": by_status,
        "total": sum(by_status.values()),
        "disclaimer_version": disclaimer.version if disclaimer else None,
        "pending_acknowledgments": pending if disclaimer else 0,
        "cohorts": [(name, count) for name, count in cohorts],
    }
