"""The Import page as a data manager uses it: check a file, read the problems, import, undo."""
from __future__ import annotations

import io
import json
import re

from paco.extensions import db
from paco.models import AuditEvent, Cohort, ImportBatch, ResearchID

PAGE = "/admin/import/"


def upload(site, text: str, name: str = "ids.csv", **options):
    data = {"kind": "research_ids", "cohort": "Arm C", "create_cohort": "y", **options,
            "file": (io.BytesIO(text.encode("utf-8")), name)}
    return site.post(PAGE + "check/", data, token_page=PAGE, content_type="multipart/form-data")


def ids_in(cohort: str) -> list[str]:
    return list(db.session.execute(db.select(ResearchID.research_id).join(Cohort).where(Cohort.name == cohort)
                                   .order_by(ResearchID.research_id)).scalars())


def test_check_then_import_then_undo(signed_in):
    site = signed_in("data_manager")
    page = upload(site, "research_id,notes,colour\nC-1,a,red\nC-2,,blue\n").get_data(as_text=True)
    assert "The whole file can be imported: <b>research IDs: 2 created, 0 updated, 0 unchanged, 0 skipped</b>" in page
    assert "Columns not used: colour" in page
    assert ids_in("Arm C") == [] and db.session.execute(db.select(Cohort).where(Cohort.name == "Arm C")).first() is None
    token = re.search(r'name="token" value="([0-9a-f]{32})"', page).group(1)

    done = site.post(PAGE + "commit/", {"token": token}, token_page=PAGE, follow_redirects=True)
    text = done.get_data(as_text=True)
    assert "research IDs: 2 created, 0 updated, 0 unchanged, 0 skipped" in text
    assert ids_in("Arm C") == ["C-1", "C-2"]
    batch = db.session.execute(db.select(ImportBatch)).scalar_one()
    assert batch.id in text and batch.file_name == "ids.csv"
    event = db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "import.research_ids")).scalar_one()
    assert event.actor.endswith("@study.example.org") and json.loads(event.detail)["created"] == 2
    # The same check cannot be imported twice.
    again = site.post(PAGE + "commit/", {"token": token}, token_page=PAGE, follow_redirects=True)
    assert "That check has expired" in again.get_data(as_text=True)

    undone = site.post(PAGE + f"undo/{batch.id}/", token_page=PAGE, follow_redirects=True)
    assert f"Batch {batch.id} undone: 2 rows removed." in undone.get_data(as_text=True)
    assert ids_in("Arm C") == []


def test_problems_are_shown_in_a_table_and_downloadable(signed_in):
    site = signed_in("admin")
    page = upload(site, "research_id\nOK-1\nbad id\nOK-1\n").get_data(as_text=True)
    assert "<b>2 problems</b>: nothing was imported." in page
    rows = re.findall(r"<tr><td>(\d+)</td><td>(\w*)</td><td class=\"text-monospace\">([^<]*)</td>", page)
    assert rows == [("3", "research_id", "bad id"), ("4", "research_id", "OK-1")]
    assert "duplicate in the file: also on line 2" in page and 'id="import-commit"' not in page
    link = re.search(r'href="(/admin/import/report/[0-9a-f]{32}\.csv)"', page).group(1)
    report = site.get(link)
    assert report.status_code == 200 and report.mimetype == "text/csv"
    assert report.get_data(as_text=True).splitlines()[0] == "line,column,value,reason,code"
    assert db.session.execute(db.select(ResearchID)).first() is None


def test_adherence_percent_rule_and_too_large_files(signed_in, app):
    site = signed_in("data_manager")
    db.session.add(ResearchID(research_id="A-1", status="active"))
    db.session.commit()
    page = upload(site, "research_id,date,value\nA-1,2026-10-01,85\n", kind="adherence", measure="pill_count",
                  scale="fraction").get_data(as_text=True)
    assert "outside 0-1, the declared scale (fraction)" in page
    page = upload(site, "research_id,date,value\nA-1,2026-10-01,85\n", kind="adherence", measure="pill_count",
                  scale="percent").get_data(as_text=True)
    assert "adherence records: 1 created" in page
    app.config["PACO_IMPORT_MAX_BYTES"] = 2048
    refused = upload(site, "research_id\n" + "X-1\n" * 1000)
    assert refused.status_code == 302 and refused.location.endswith(PAGE)
    assert "The file is larger than 2 KB, the limit of this page." in site.get(PAGE).get_data(as_text=True)
    assert db.session.execute(db.select(ResearchID.research_id)).scalars().all() == ["A-1"]


def test_investigators_cannot_see_or_use_the_page(signed_in):
    site = signed_in("investigator")
    assert site.get(PAGE).status_code == 403
    assert 'href="/admin/import/"' not in site.get("/admin/").get_data(as_text=True)
    data = {"kind": "research_ids", "cohort": "C", "create_cohort": "y",
            "file": (io.BytesIO(b"research_id\nX-1\n"), "a.csv")}
    assert site.post(PAGE + "check/", data, content_type="multipart/form-data").status_code == 403
    assert db.session.execute(db.select(ResearchID)).first() is None


def test_a_file_checked_on_one_instance_is_imported_on_another(signed_in, app, make_app, tmp_path):
    """Behind a load balancer without sticky sessions the click on Import may reach another
    instance: the checked file waits in PACO_IMPORT_DIR, which every instance shares."""
    shared = str(tmp_path / "shared-imports")
    app.config["PACO_IMPORT_DIR"] = shared
    site = signed_in("data_manager")
    page = upload(site, "research_id\nD-1\nD-2\n", cohort="Arm D").get_data(as_text=True)
    token = re.search(r'name="token" value="([0-9a-f]{32})"', page).group(1)
    csrf = site.token(PAGE)

    other = make_app(PACO_IMPORT_DIR=shared).test_client()  # another instance: same database and keys
    for cookie in site.client._cookies.values():  # the staff member's browser
        other.set_cookie(cookie.key, cookie.value, domain=cookie.domain, path=cookie.path)
    done = other.post(PAGE + "commit/", data={"token": token, "csrf_token": csrf}, follow_redirects=True)
    assert "research IDs: 2 created" in done.get_data(as_text=True)
    assert ids_in("Arm D") == ["D-1", "D-2"]


def test_an_import_whose_checked_file_is_not_here_asks_for_it_again(signed_in, app, make_app, tmp_path):
    app.config["PACO_IMPORT_DIR"] = str(tmp_path / "here")
    site = signed_in("data_manager")
    page = upload(site, "research_id\nE-1\n", cohort="Arm E").get_data(as_text=True)
    token = re.search(r'name="token" value="([0-9a-f]{32})"', page).group(1)
    app.config["PACO_IMPORT_DIR"] = str(tmp_path / "not-shared")  # as on an instance that does not share it
    done = site.post(PAGE + "commit/", {"token": token}, token_page=PAGE, follow_redirects=True)
    assert "The checked file is no longer here: upload the file again." in done.get_data(as_text=True)
    assert ids_in("Arm E") == []
