"""Disclaimer versions (draft → publish; a published text is never edited) and acknowledgments."""
from __future__ import annotations

import re

from paco.extensions import db
from paco.models import Disclaimer
from paco.services import consent

from .conftest import audit_events, row_id

URL = "/admin/disclaimers/"


def test_draft_edit_publish(study, signed_in, client):
    site = signed_in("admin")
    response = site.post(URL + "new/", {"text": "  Version three text.  "}, token_page=URL + "new/")
    assert response.status_code == 302
    draft = db.session.execute(db.select(Disclaimer).where(Disclaimer.version == 3)).scalar_one()
    assert draft.published_at is None and draft.text == "Version three text."
    assert audit_events("create")[-1].target == "disclaimers:3"

    response = site.post(URL + f"edit/?id={draft.id}", {"text": "Version three, reworded."},
                         token_page=URL + f"edit/?id={draft.id}")
    assert response.status_code == 302
    db.session.expire_all()
    assert draft.text == "Version three, reworded." and draft.content_hash == consent.content_hash(draft.text)

    # v2 is an older draft: publishing v3 first makes v2 outdated.
    response = site.action(URL, "publish", [draft.id], follow_redirects=True)
    assert "Disclaimer v3 is published" in response.get_data(as_text=True)
    assert client.get("/api/v1/auth/disclaimer").get_json()["version"] == 3
    response = site.action(URL, "publish", [row_id(Disclaimer, version=2)], follow_redirects=True)
    assert "v3 is already published; make a new version instead." in response.get_data(as_text=True)


def test_a_published_text_is_never_edited(study, signed_in):
    site = signed_in("admin")
    v1 = db.session.execute(db.select(Disclaimer).where(Disclaimer.version == 1)).scalar_one()
    original = v1.text
    response = site.get(URL + f"edit/?id={v1.id}")
    assert response.status_code == 302 and f"new/?from={v1.id}" in response.headers["Location"]
    page = site.get(response.headers["Location"]).get_data(as_text=True)
    assert "is published and is never changed or deleted; make a new version instead." in page
    assert "not a doctor" in page  # the new version starts from the published text

    site.post(URL + f"edit/?id={v1.id}", {"text": "Sneaky change."}, token_page=URL + "new/")
    response = site.post(URL + "delete/", {"id": str(v1.id)}, follow_redirects=True)
    assert "never changed or deleted" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Disclaimer, v1.id).text == original


def test_the_list_shows_draft_and_current_versions(study, signed_in):
    page = signed_in("investigator").get(URL).get_data(as_text=True)
    assert "published, current" in page and ">draft<" in page


def test_acknowledgments_list_filters_and_pending_link(study, signed_in):
    site = signed_in("investigator")
    page = site.get("/admin/acknowledgments/?flt0_version_equals=1").get_data(as_text=True)
    assert "RID001" in page and "TestBrowser/1.0" in page
    assert "RID001" not in site.get("/admin/acknowledgments/?flt0_version_equals=2").get_data(as_text=True)

    link = re.search(r'href="([^"]+)">Research IDs that have not acknowledged it', page).group(1)
    pending = site.get(link.replace("&amp;", "&")).get_data(as_text=True)
    assert "RID002" in pending and not re.search(r'>\s*RID001\s*<', pending)


def test_acknowledgments_are_read_only_and_exportable(study, signed_in):
    site = signed_in("admin")
    pk = db.session.execute(db.text("SELECT id FROM disclaimer_acknowledgments")).scalar()
    assert site.get(f"/admin/acknowledgments/edit/?id={pk}").status_code == 403
    assert site.post("/admin/acknowledgments/delete/", {"id": str(pk)}).status_code == 403
    csv = site.get("/admin/acknowledgments/export/csv/").get_data(as_text=True)
    assert "RID001" in csv and csv.splitlines()[0].startswith("Research ID,Version")
