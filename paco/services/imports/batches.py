"""Import batches after the fact: the recent ones, and undoing one.

Undo removes the rows a batch created. It is refused when the batch changed rows that were
already there (undo cannot know their earlier values: re-import the earlier file instead), and
for research IDs that already have chat, consent or adherence data (withdraw those instead):
study records are never deleted to undo a mistake.
"""
from __future__ import annotations

from sqlalchemy import delete, select

from ...errors import Conflict, NotFound
from ...extensions import db
from ...models import AdherenceRecord, Conversation, DisclaimerAcknowledgment, ImportBatch, ResearchID, utcnow
from .. import audit
from ..transaction import committing

SHOWN_IDS = 10


def recent_batches(limit: int = 20) -> list[ImportBatch]:
    return list(db.session.execute(
        select(ImportBatch).order_by(ImportBatch.created_at.desc()).limit(limit)).scalars())


def undo_batch(batch_id: str, actor: str, ip: str | None = None) -> tuple[ImportBatch, int]:
    """Remove the rows batch ``batch_id`` created; returns the batch and how many rows went."""
    batch_id = (batch_id or "").strip()
    batch = db.session.get(ImportBatch, batch_id)
    if batch is None:
        raise NotFound("unknown_batch", f"There is no import batch {batch_id!r}.")
    if batch.undone_at is not None:
        raise Conflict("batch_already_undone", f"Batch {batch.id} was already undone on "
                       f"{batch.undone_at:%Y-%m-%d %H:%M} UTC by {batch.undone_by}.")
    if batch.updated:
        raise Conflict("batch_changed_rows", f"Batch {batch.id} changed {batch.updated} rows that were already "
                       "in PaCo; undo removes only the rows a batch created and cannot bring back their earlier "
                       "values. Re-import the earlier file to put them back.")
    with committing():
        if batch.kind == "research_ids":
            removed = _remove_research_ids(batch)
        else:
            removed = db.session.execute(
                delete(AdherenceRecord).where(AdherenceRecord.import_batch == batch.id)).rowcount
        batch.undone_at = utcnow()
        batch.undone_by = actor[:254]
        audit.record(actor, "import.undo", batch.id, {"batch": batch.id, "kind": batch.kind,
                                                      "file": batch.file_name, "removed": removed}, ip)
    return batch, removed


def _remove_research_ids(batch: ImportBatch) -> int:
    ids = select(ResearchID.research_id).where(ResearchID.import_batch == batch.id)
    in_use: set[str] = set()
    for model in (Conversation, DisclaimerAcknowledgment, AdherenceRecord):
        in_use.update(db.session.execute(
            select(model.research_id).where(model.research_id.in_(ids)).distinct()).scalars())
    if in_use:
        shown = ", ".join(sorted(in_use)[:SHOWN_IDS]) + (" ..." if len(in_use) > SHOWN_IDS else "")
        raise Conflict("batch_in_use", f"{len(in_use)} research IDs of batch {batch.id} already have chat, "
                       f"consent or adherence data ({shown}); study records are kept. "
                       "Withdraw those IDs instead (flask ids set-status withdrawn).")
    return db.session.execute(delete(ResearchID).where(ResearchID.import_batch == batch.id)).rowcount

