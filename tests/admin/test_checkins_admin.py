"""Staff see participants' check-ins: each day's self-report in the adherence records, every answer
(changes included) in the check-in history, and the cohorts' check-in settings and contact text."""
from __future__ import annotations

import csv
import io

from paco.extensions import db
from paco.models import AdherenceRecord, Cohort

CHECKIN = "/api/v1/adherence/checkin"


def _participant_answers(app, research_id, *bodies):
    client = app.test_client()
    client.post("/api/v1/auth/acknowledge-disclaimer", json={"research_id": research_id})
    token = client.post("/api/v1/auth/login", json={"research_id": research_id}).get_json()["access_token"]
    for body in bodies:
        r = client.post(CHECKIN, json=body, headers={"Authorization": f"Bearer {token}"})
        assert r.status_code in (200, 201), r.get_json()
    return r.get_json()["checkin"]["date"]


def _rows(site, path):
    return list(csv.DictReader(io.StringIO(site.get(path).get_data(as_text=True))))


def test_a_check_in_is_the_days_self_report_in_the_adherence_records(app, study, signed_in):
    day = _participant_answers(app, "RID002", {"taken": "none", "reason": "side_effects"},
                               {"taken": "some", "reason": "forgot", "note": "Evening pills"})
    site = signed_in("investigator")
    page = site.get("/admin/adherence/?flt0_measure_equals=self_report").get_data(as_text=True)
    assert "RID002" in page and "paco_checkin" in page and "forgot" in page
    (row,) = _rows(site, "/admin/adherence/export/csv/?flt0_measure_equals=self_report")
    assert (row["Research ID"], row["Date"], row["Value"], row["Source"], row["Barrier"]) == (
        "RID002", day, "0.5", "paco_checkin", "forgot")
    by_barrier = _rows(site, "/admin/adherence/export/csv/?flt0_barrier_equals=forgot")
    assert [r["Research ID"] for r in by_barrier] == ["RID002"]


def test_every_answer_changes_included_is_in_the_check_in_history(app, study, signed_in):
    _participant_answers(app, "RID002", {"taken": "none", "reason": "side_effects"}, {"taken": "all"})
    site = signed_in("investigator")
    page = site.get("/admin/checkins/?search=RID002")
    assert page.status_code == 200
    rows = _rows(site, "/admin/checkins/export/csv/?search=RID002")
    assert [(r["Took"], r["Reason"], r["Value"]) for r in rows] == [("all", "", "1.0"), ("none", "side_effects", "0.0")]
    assert all(r["Wording"] == "v1" for r in rows)
    assert _rows(site, "/admin/checkins/export/csv/?flt0_reason_equals=cost")[0]["Research ID"] == "RID001"
    # Participants write check-ins; staff read them.
    site.sign_out()
    manager = signed_in("data_manager")
    assert manager.get("/admin/checkins/new/").status_code == 403
    assert 'href="/admin/checkins/new/' not in manager.get("/admin/checkins/").get_data(as_text=True)


def test_cohort_check_in_settings_and_contact_text(study, signed_in):
    site = signed_in("data_manager")
    base = {"name": "Check-in arm", "description": "", "llm_provider": "", "tts_enabled": "y",
            "daily_llm_tokens": "0", "daily_tts_chars": "0", "checkin_wording": "v2"}
    form = {**base, "checkin_enabled": "y", "checkin_weekdays": "5, 3, 1",
            "contact_text": "  Call Ana on 555-0100.  "}
    assert site.post("/admin/cohorts/new/", form, token_page="/admin/cohorts/new/").status_code == 302
    cohort = db.session.execute(db.select(Cohort).where(Cohort.name == "Check-in arm")).scalar_one()
    assert (cohort.checkin_enabled, cohort.checkin_weekdays, cohort.checkin_wording, cohort.contact_text) == (
        True, "135", "v2", "Call Ana on 555-0100.")
    for weekdays, message in (("1238", "digits 1 (Monday) to 7 (Sunday)"), ("113", "each at most once"),
                              ("", "at least one weekday")):
        page = site.post("/admin/cohorts/new/", {**form, "name": f"Bad {weekdays}", "checkin_weekdays": weekdays},
                         token_page="/admin/cohorts/new/").get_data(as_text=True)
        assert message in page, weekdays
        assert db.session.execute(db.select(Cohort).where(Cohort.name == f"Bad {weekdays}")).first() is None
    off = {**base, "name": "Control arm", "checkin_weekdays": ""}  # off: no weekdays needed
    assert site.post("/admin/cohorts/new/", off, token_page="/admin/cohorts/new/").status_code == 302
    control = db.session.execute(db.select(Cohort).where(Cohort.name == "Control arm")).scalar_one()
    assert control.checkin_enabled is False
    page = site.get("/admin/cohorts/new/").get_data(as_text=True)
    assert "Did you take your P.A.D. medicines today?" in page and "Contact for paused participants" in page


def test_a_barrier_entered_by_hand_is_checked(study, signed_in):
    site = signed_in("data_manager")
    form = {"research_id": "RID003", "date": "2026-02-01", "measure": "self_report", "value": "0.5",
            "source": "phone call", "barrier": "cost"}
    assert site.post("/admin/adherence/new/", form, token_page="/admin/adherence/new/").status_code == 302
    record = db.session.execute(db.select(AdherenceRecord).where(AdherenceRecord.research_id == "RID003")).scalar_one()
    assert record.barrier == "cost"
    page = site.post("/admin/adherence/new/", {**form, "date": "2026-02-02", "barrier": "boredom"},
                     token_page="/admin/adherence/new/").get_data(as_text=True)
    assert "Not a valid choice" in page or "The barrier must be one of" in page
