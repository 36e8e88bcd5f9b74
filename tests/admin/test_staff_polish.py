"""What staff read, as a new user would: no "__None", counts in good English, a 403 in the site's layout."""
from __future__ import annotations

import re

from paco.extensions import db
from paco.models import ResearchID


def options(page: str) -> list[str]:
    return re.findall(r"<option[^>]*>([^<]*)</option>", page)


def test_empty_choices_read_as_words_not_none(study, signed_in):
    site = signed_in("data_manager")
    research_id_form = site.get("/admin/research-ids/new/").get_data(as_text=True)
    assert "__None" not in options(research_id_form) and "(no cohort)" in options(research_id_form)
    cohort_form = site.get("/admin/cohorts/new/").get_data(as_text=True)
    assert options(cohort_form)[0] == "Server default" and "__None" not in cohort_form


def test_one_research_id_is_singular(study, signed_in):
    site = signed_in("data_manager")
    pk = db.session.execute(db.select(ResearchID.id).where(ResearchID.research_id == "RID002")).scalar_one()
    page = site.action("/admin/research-ids/", "pause", [pk], follow_redirects=True).get_data(as_text=True)
    assert "1 research ID set to paused." in page


def test_a_refused_page_is_in_the_sites_layout_with_a_way_back(study, signed_in):
    site = signed_in("investigator")
    response = site.get("/admin/staff/")
    page = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "Not available to your role" in page and "investigator" in page
    assert 'href="/admin/"' in page and "Back to the study summary" in page
