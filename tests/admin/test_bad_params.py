"""Malformed parameters in admin URLs and forms get a 400 or a form error, never a 500."""
from __future__ import annotations

import pytest

from paco.extensions import db
from paco.models import Cohort

from .conftest import Site

LISTS = ["/admin/research-ids/", "/admin/cohorts/", "/admin/adherence/", "/admin/messages/", "/admin/audit/",
         "/admin/conversations/", "/admin/acknowledgments/", "/admin/disclaimers/", "/admin/staff/"]
BAD_QUERIES = ["page=-5", "page=99999999999999999999999", "page=1e9", "sort=99", "sort=-1", "desc=abc",
               "search=a%00b", "search=%ED%A0%80", "page_size=-1", "page_size=999999999999", "flt0_0=%00",
               "flt0_0=99999999999999999999999"]


@pytest.mark.parametrize("query", BAD_QUERIES)
def test_list_pages_refuse_malformed_parameters_without_a_crash(study, signed_in, query):
    site = signed_in("admin")
    for page in LISTS:
        response = site.get(f"{page}?{query}")
        assert response.status_code in (200, 302, 400), (page, query, response.status_code)


@pytest.mark.parametrize("query", ["id=1'", "id=%00", "id=-1", "id=99999999999999999999999", "id="])
def test_record_pages_refuse_malformed_ids_without_a_crash(study, signed_in, query):
    site = signed_in("admin")
    for page in ("/admin/research-ids/edit/", "/admin/research-ids/details/", "/admin/cohorts/edit/",
                 "/admin/audit/details/", "/admin/messages/details/"):
        response = site.get(f"{page}?{query}")
        assert response.status_code in (200, 302, 400, 404), (page, query, response.status_code)


def test_a_nul_in_a_cohort_name_is_a_form_error_and_nothing_is_stored(study, signed_in):
    site = signed_in("admin")
    before = db.session.execute(db.select(db.func.count(Cohort.id))).scalar()
    response = site.post("/admin/cohorts/new/", {"name": "Arm\x00X", "tts_enabled": "y"},
                         token_page="/admin/cohorts/new/")
    assert response.status_code in (200, 400)
    assert db.session.execute(db.select(db.func.count(Cohort.id))).scalar() == before


def test_a_nul_in_the_staff_email_is_a_form_error(client):
    site = Site(client)
    response = site.sign_in("admin\x00@study.example.org", "whatever it is")
    assert response.status_code in (200, 400, 401)
