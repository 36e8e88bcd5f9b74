"""The data model (docs/data-model.md), one module per aggregate."""
from .adherence import ADHERENCE_MEASURES, IMPORT_KINDS, AdherenceRecord, ImportBatch
from .audit import AuditEvent
from .chat import Conversation, Message, TurnLease, TurnMetrics
from .checkins import BARRIERS, CHECKIN_TAKEN, Checkin
from .consent import Disclaimer, DisclaimerAcknowledgment
from .participants import PARTICIPANT_STATUSES, Cohort, ResearchID
from .rollups import TOPIC_KEYS, cohort_days, latency_bins, question_days, rollup_participants, rollup_state, turn_days
from .staff import STAFF_ROLES, StaffUser
from .tokens import RevokedToken
from .types import utcnow

__all__ = [
    "ADHERENCE_MEASURES", "AdherenceRecord", "AuditEvent", "BARRIERS", "CHECKIN_TAKEN", "Checkin", "Cohort",
    "Conversation", "Disclaimer", "DisclaimerAcknowledgment", "IMPORT_KINDS", "ImportBatch", "Message",
    "PARTICIPANT_STATUSES", "ResearchID", "RevokedToken", "STAFF_ROLES", "StaffUser", "TOPIC_KEYS", "TurnLease",
    "TurnMetrics", "cohort_days", "latency_bins", "question_days", "rollup_participants", "rollup_state",
    "turn_days", "utcnow",
]
