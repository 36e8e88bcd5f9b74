"""The data model (docs/data-model.md), one module per aggregate."""
from .adherence import ADHERENCE_MEASURES, IMPORT_KINDS, AdherenceRecord, ImportBatch
from .audit import AuditEvent
from .chat import Conversation, Message, TurnLease, TurnMetrics
from .checkins import BARRIERS, CHECKIN_TAKEN, Checkin
from .consent import Disclaimer, DisclaimerAcknowledgment
from .participants import PARTICIPANT_STATUSES, Cohort, ResearchID
from .staff import STAFF_ROLES, StaffUser
from .tokens import RevokedToken
from .types import utcnow

__all__ = [
    "ADHERENCE_MEASURES", "AdherenceRecord", "AuditEvent", "BARRIERS", "CHECKIN_TAKEN", "Checkin", "Cohort",
    "Conversation", "Disclaimer", "DisclaimerAcknowledgment", "IMPORT_KINDS", "ImportBatch", "Message",
    "PARTICIPANT_STATUSES", "ResearchID", "RevokedToken", "STAFF_ROLES", "StaffUser", "TurnLease", "TurnMetrics",
    "utcnow",
]
