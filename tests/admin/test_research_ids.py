"""Research IDs as a data manager uses them: search, filters, bulk actions, cohort moves, guarded deletes."""
from __future__ import annotations

import re

from paco.extensions import db
from paco.models import Cohort, ResearchID
from paco.services import consent

from .conftest import audit_events, row_id

URL = "/admin/research-ids/"


def listed(site, query: str = "") -> list[str]:
    """The research IDs shown on the list page, in order."""
    page = site.get(URL + query).get_data(as_text=True)
    return re.findall(r'<td class="col-research_id">\s*([A-Z0-9_.-]+)\s*</td>', page)


def test_search_and_filters(study, signed_in):
    site = signed_in("investigator")
    consent.acknowledge("RID002", consent.current_disclaimer(), "")
    assert listed(site, "?search=rid00") == [f"RID00{n}" for n in range(1, 10)]
    db.session.execute(db.update(ResearchID).where(ResearchID.research_id == "RID003").values(status="paused"))
    db.session.commit()
    assert listed(site, "?flt0_status_equals=paused") == ["RID003"]
    assert listed(site, "?flt0_current_disclaimer_is=acknowledged") == ["RID001", "RID002"]
    assert "RID001" not in listed(site, "?flt0_current_disclaimer_is=pending")
    assert listed(site, "?flt0_cohort_equals=Demo+cohort")[:2] == ["RID001", "RID002"]
    assert "RIDSPARE" not in listed(site, "?flt0_cohort_equals=Demo+cohort")


def test_the_list_shows_disclaimer_state(study, signed_in):
    page = signed_in("investigator").get(URL + "?search=RID001").get_data(as_text=True)
    assert re.search(r'col-disclaimer">\s*acknowledged', page)


def test_bulk_status_changes(study, signed_in):
    site = signed_in("data_manager")
    pks = [row_id(ResearchID, research_id=r) for r in ("RID004", "RID005")]
    response = site.action(URL, "withdraw", pks, follow_redirects=True)
    assert "2 research IDs set to withdrawn." in response.get_data(as_text=True)
    db.session.expire_all()
    withdrawn = db.session.get(ResearchID, pks[0])
    assert withdrawn.status == "withdrawn" and not withdrawn.is_active
    assert withdrawn.status_changed_at is not None

    response = site.action(URL, "activate", pks + [row_id(ResearchID, research_id="RID006")],
                           follow_redirects=True)
    assert "2 research IDs set to active (1 already active)." in response.get_data(as_text=True)


def test_a_withdrawn_participant_is_refused_at_once(study, signed_in, client):
    site = signed_in("data_manager")
    site.action(URL, "withdraw", [row_id(ResearchID, research_id="RID001")])
    response = client.post("/api/v1/auth/login", json={"research_id": "RID001"})
    assert response.status_code == 403


def test_move_to_another_cohort(study, signed_in):
    site = signed_in("data_manager")
    spare = row_id(Cohort, name="Spare cohort")
    pks = [row_id(ResearchID, research_id=r) for r in ("RID007", "RID008")]
    page = site.action(URL, "move_cohort", pks).get_data(as_text=True)
    assert "RID007, RID008" in page and "Spare cohort" in page
    response = site.post(URL + "move-cohort/", {"research_ids": "RID007,RID008", "cohort_id": str(spare)},
                         follow_redirects=True)
    assert "2 research IDs moved to <b>Spare cohort</b>." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(ResearchID, pks[0]).cohort_id == spare
    event = audit_events("bulk.move_cohort")[-1]
    assert '"cohort":"Spare cohort"' in event.detail


def test_create_normalises_and_validates(study, signed_in):
    site = signed_in("data_manager")
    cohort = row_id(Cohort, name="Demo cohort")
    response = site.post(URL + "new/", {"research_id": "  rid-100 ", "cohort": str(cohort), "status": "active"},
                         token_page=URL + "new/")
    assert response.status_code == 302
    created = db.session.execute(db.select(ResearchID).where(ResearchID.research_id == "RID-100")).scalar_one()
    assert created.enrolled_at is not None and created.cohort_id == cohort

    response = site.post(URL + "new/", {"research_id": "bad id!", "status": "active"}, token_page=URL + "new/")
    assert "may contain only letters, digits" in response.get_data(as_text=True)
    response = site.post(URL + "new/", {"research_id": "rid001", "status": "active"}, token_page=URL + "new/")
    assert "already exists" in response.get_data(as_text=True).lower()


def test_editing_a_status_records_when_it_changed(study, signed_in):
    site = signed_in("data_manager")
    pk = row_id(ResearchID, research_id="RID009")
    page = site.get(URL + f"edit/?id={pk}").get_data(as_text=True)
    assert 'name="research_id"' not in page  # never renamed: other tables refer to it
    response = site.post(URL + f"edit/?id={pk}", {"status": "paused", "cohort": ""},
                         token_page=URL + f"edit/?id={pk}")
    assert response.status_code == 302
    db.session.expire_all()
    participant = db.session.get(ResearchID, pk)
    assert participant.status == "paused" and participant.status_changed_at is not None


def test_a_research_id_with_study_data_cannot_be_deleted(study, signed_in):
    site = signed_in("admin")
    pk = row_id(ResearchID, research_id="RID001")
    response = site.post(URL + "delete/", {"id": str(pk)}, follow_redirects=True)
    text = response.get_data(as_text=True)
    assert "RID001 has 1 disclaimer acknowledgments, 1 conversations, 1 adherence records" in text
    assert "Withdraw it instead." in text
    assert db.session.get(ResearchID, pk) is not None
    assert audit_events("delete") == []


def test_there_is_no_one_click_mass_delete(study, signed_in):
    site = signed_in("admin")
    page = site.get(URL).get_data(as_text=True)
    assert 'data-action="delete"' not in page
    pk = row_id(ResearchID, research_id="RIDSPARE")
    site.action(URL, "delete", [pk])
    assert db.session.get(ResearchID, pk) is not None
