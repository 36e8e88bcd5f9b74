"""The role matrix: each role × each view × list/create/edit/delete/export, allowed or refused.

The expectations are written out here, independently of admin/roles.py, as the issue states them:
admin does everything; data managers run cohorts, research IDs and adherence data; investigators
read and export; staff accounts and the audit log are for admins only.
"""
from __future__ import annotations

import pytest

from paco.extensions import db
from paco.models import (
    AdherenceRecord,
    AuditEvent,
    Checkin,
    Cohort,
    Conversation,
    Disclaimer,
    DisclaimerAcknowledgment,
    Message,
    ResearchID,
    StaffUser,
)

from .conftest import row_id

A, D, I = "admin", "data_manager", "investigator"  # noqa: E741
EVERYONE, MANAGERS, ADMIN, NOBODY = {A, D, I}, {A, D}, {A}, set()


def crud(writers, readers=EVERYONE):
    return {"list": readers, "create": writers, "edit": writers, "delete": writers, "export": readers}


def read_only(readers=EVERYONE):
    return {"list": readers, "create": NOBODY, "edit": NOBODY, "delete": NOBODY, "export": readers}


EXPECTED = {
    "research-ids": crud(MANAGERS),
    "cohorts": crud(MANAGERS),
    "adherence": crud(MANAGERS),
    "checkins": read_only(),  # written by participants only
    "disclaimers": crud(ADMIN),
    "acknowledgments": read_only(),
    "conversations": read_only(),
    "messages": read_only(),
    "staff": crud(ADMIN, readers=ADMIN),
    "audit": read_only(ADMIN),
}


def deletable_row(view: str) -> tuple[type, int]:
    """A row of the view that may be deleted (no study data depends on it)."""
    return {
        "research-ids": (ResearchID, lambda: row_id(ResearchID, research_id="RIDSPARE")),
        "cohorts": (Cohort, lambda: row_id(Cohort, name="Spare cohort")),
        "adherence": (AdherenceRecord, lambda: row_id(AdherenceRecord, research_id="RID001")),
        "checkins": (Checkin, lambda: row_id(Checkin, research_id="RID001")),
        "disclaimers": (Disclaimer, lambda: row_id(Disclaimer, version=2)),
        "acknowledgments": (DisclaimerAcknowledgment, lambda: row_id(DisclaimerAcknowledgment, research_id="RID001")),
        "conversations": (Conversation, lambda: row_id(Conversation, conversation_id="conv-1")),
        "messages": (Message, lambda: db.session.execute(db.select(db.func.min(Message.id))).scalar()),
        "staff": (StaffUser, lambda: row_id(StaffUser, email="spare@study.example.org")),
        "audit": (AuditEvent, lambda: db.session.execute(db.select(db.func.min(AuditEvent.id))).scalar()),
    }[view]


def attempt(site, view: str, operation: str, pk: int):
    base = f"/admin/{view}/"
    if operation == "list":
        return site.get(base)
    if operation == "create":
        return site.get(base + "new/")
    if operation == "edit":
        return site.get(base + f"edit/?id={pk}")
    if operation == "export":
        response = site.get(base + "export/csv/")
        response.get_data()  # the CSV is streamed: read it all
        return response
    return site.post(base + "delete/", {"id": str(pk), "url": base})


@pytest.mark.parametrize("role", [A, D, I])
def test_role_matrix(study, signed_in, role):
    site = signed_in(role)
    wrong = []
    for view, operations in EXPECTED.items():
        model, pk_of = deletable_row(view)
        for operation in ("list", "create", "edit", "export", "delete"):
            pk = pk_of()
            response = attempt(site, view, operation, pk)
            allowed = role in operations[operation]
            if not allowed:
                outcome_ok = response.status_code == 403
            elif operation == "delete":
                db.session.expire_all()
                outcome_ok = response.status_code == 302 and db.session.get(model, pk) is None
            else:
                outcome_ok = response.status_code == 200
            if not outcome_ok:
                wrong.append(f"{role} {operation} {view}: {response.status_code} "
                             f"(expected {'allowed' if allowed else '403'})")
    assert wrong == []


@pytest.mark.parametrize("role, allowed", [(A, True), (D, True), (I, False)])
def test_bulk_actions_follow_the_role(study, signed_in, role, allowed):
    site = signed_in(role)
    pk = row_id(ResearchID, research_id="RID002")
    response = site.action("/admin/research-ids/", "pause", [pk])
    db.session.expire_all()
    status = db.session.get(ResearchID, pk).status
    if allowed:
        assert response.status_code == 302 and status == "paused"
    else:
        assert response.status_code == 403 and status == "active"
        page = site.get("/admin/research-ids/").get_data(as_text=True)
        assert "Withdraw" not in page and 'href="/admin/research-ids/new/' not in page


def test_investigators_see_no_write_buttons(study, signed_in):
    page = signed_in(I).get("/admin/cohorts/").get_data(as_text=True)
    assert "Export" in page
    assert "/admin/cohorts/new/" not in page and "/admin/cohorts/edit/" not in page
    assert "/admin/cohorts/delete/" not in page


def test_menu_shows_only_what_the_role_may_open(study, signed_in):
    page = signed_in(D).get("/admin/").get_data(as_text=True)
    assert "/admin/research-ids/" in page and "/admin/messages/" in page
    assert "/admin/staff/" not in page and "/admin/audit/" not in page


@pytest.mark.parametrize("path", ["/admin/", "/admin/research-ids/", "/admin/cohorts/new/",
                                  "/admin/messages/export/csv/", "/admin/staff/", "/admin/audit/",
                                  "/admin/audit/verify/", "/admin/disclaimers/edit/?id=1"])
def test_signed_out_visitors_are_sent_to_sign_in(study, client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/admin/login/?next=")


def test_signed_out_posts_are_sent_to_sign_in(study, site):
    pk = row_id(Cohort, name="Spare cohort")
    response = site.post("/admin/cohorts/delete/", {"id": str(pk)}, token_page="/admin/login/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/admin/login/")
    assert db.session.get(Cohort, pk) is not None
