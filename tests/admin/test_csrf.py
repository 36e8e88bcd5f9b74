"""CSRF: every state-changing request to the site needs the form's token; the JSON API does not."""
from __future__ import annotations

import pytest

from paco.extensions import db
from paco.models import Cohort, ResearchID, StaffUser

from .conftest import PASSWORD, row_id


def test_sign_in_without_a_token_is_refused(make_staff, client):
    make_staff("admin")
    response = client.post("/admin/login/", data={"email": "admin@study.example.org", "password": PASSWORD})
    assert response.status_code == 400 and "CSRF" in response.get_data(as_text=True)
    assert db.session.get(StaffUser, 1).last_login_at is None


def test_a_token_from_another_session_is_refused(make_staff, app, site):
    make_staff("admin")
    foreign = site.token("/admin/login/")
    other = app.test_client()
    other.get("/admin/login/")
    response = other.post("/admin/login/", data={"email": "admin@study.example.org", "password": PASSWORD,
                                                 "csrf_token": foreign})
    assert response.status_code == 400


@pytest.mark.parametrize("path, data", [
    ("/admin/cohorts/new/", {"name": "Arm C", "tts_enabled": "y"}),
    ("/admin/cohorts/edit/?id={cohort}", {"name": "Renamed"}),
    ("/admin/cohorts/delete/", {"id": "{cohort}"}),
    ("/admin/research-ids/action/", {"action": "withdraw", "rowid": "{rid}"}),
    ("/admin/research-ids/move-cohort/", {"research_ids": "RID001", "cohort_id": "{cohort}"}),
    ("/admin/disclaimers/new/", {"text": "A new version."}),
    ("/admin/logout/", {}),
])
def test_posts_without_a_token_are_refused(study, signed_in, path, data):
    site = signed_in("admin")
    ids = {"cohort": row_id(Cohort, name="Spare cohort"), "rid": row_id(ResearchID, research_id="RID001")}
    path = path.format(**ids)
    data = {key: value.format(**ids) for key, value in data.items()}
    response = site.client.post(path, data=data)
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(Cohort, ids["cohort"]).name == "Spare cohort"
    assert db.session.get(ResearchID, ids["rid"]).status == "active"
    assert site.get("/admin/").status_code == 200  # still signed in: logout was refused too


def test_the_same_post_with_its_token_works(study, signed_in):
    site = signed_in("admin")
    pk = row_id(ResearchID, research_id="RID001")
    response = site.action("/admin/research-ids/", "withdraw", [pk])
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(ResearchID, pk).status == "withdrawn"


def test_the_participant_api_needs_no_csrf_token(demo, client):
    response = client.post("/api/v1/auth/validate-research-id", json={"research_id": "RID001"})
    assert response.status_code == 200 and response.get_json()["valid"] is True
