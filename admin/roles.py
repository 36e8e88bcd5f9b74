"""Who may do what in the investigator site: one table, read by every view.

Areas are the site's sections; operations are what a view can do (``list`` covers reading a
row's details too). Anything not listed is refused.
"""
from __future__ import annotations

from paco.models import STAFF_ROLES

EVERYONE = frozenset(STAFF_ROLES)
MANAGERS = frozenset({"admin", "data_manager"})
ADMINS = frozenset({"admin"})
OPERATIONS = ("list", "create", "edit", "delete", "action", "export")


def _crud(writers: frozenset, readers: frozenset = EVERYONE) -> dict[str, frozenset]:
    return {"list": readers, "export": readers, "create": writers, "edit": writers,
            "delete": writers, "action": writers}


PERMISSIONS: dict[str, dict[str, frozenset]] = {
    "home": {"list": EVERYONE},
    # Data managers run enrolment and data; investigators read and export.
    "cohorts": _crud(MANAGERS),
    "research_ids": _crud(MANAGERS),
    "adherence": _crud(MANAGERS),
    # Participants' check-in answers, changes included: written only by the participants.
    "checkins": {"list": EVERYONE, "export": EVERYONE},
    # Bulk imports (the Import page): data managers and admins only; investigators never see it.
    "imports": {"list": MANAGERS, "create": MANAGERS, "action": MANAGERS},
    # The consent text is the study's responsibility, not day-to-day data management.
    "disclaimers": _crud(ADMINS),
    "acknowledgments": {"list": EVERYONE, "export": EVERYONE},
    "conversations": {"list": EVERYONE, "export": EVERYONE},
    "messages": {"list": EVERYONE, "export": EVERYONE},
    # Every staff role reads the dashboards; dataset exports follow each dataset's own area.
    "dashboards": {"list": EVERYONE, "export": EVERYONE},
    "staff": _crud(ADMINS, readers=ADMINS),
    "audit": {"list": ADMINS, "export": ADMINS},
}


def allowed(role: str | None, area: str, operation: str) -> bool:
    return role in PERMISSIONS.get(area, {}).get(operation, frozenset())
