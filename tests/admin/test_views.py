"""The other views as staff see them: summary, cohorts, conversations, adherence, staff, audit log."""
from __future__ import annotations

import csv
import io
import re

from paco.extensions import db
from paco.models import AdherenceRecord, Cohort, StaffUser

from .conftest import Site, audit_events, row_id


def test_index_summarises_the_study(study, signed_in):
    page = signed_in("investigator").get("/admin/").get_data(as_text=True)
    statuses = re.search(r'(?s)id="participants-by-status">(.*?)</table>', page).group(1)
    assert re.search(r"Active</th>\s*<td><a [^>]*>11</a>", statuses)
    assert re.search(r"Withdrawn</th>\s*<td><a [^>]*>0</a>", statuses)
    pending = re.search(r'(?s)id="pending-acknowledgments">(.*?)</p>', page).group(1)
    assert "v1" in pending and "10 active research IDs" in pending
    assert "Demo cohort" in page and "10 research IDs" in page


def test_no_page_loads_anything_from_another_site(study, signed_in):
    site = signed_in("admin")
    for path in ("/admin/", "/admin/research-ids/", "/admin/cohorts/new/", "/admin/messages/",
                 "/admin/staff/new/", "/admin/audit/"):
        page = site.get(path).get_data(as_text=True)
        external = re.findall(r'(?:src|href)="((?:https?:)?//[^"]+)"', page)
        assert external == [], (path, external)


def test_cohort_arm_settings(study, signed_in):
    site = signed_in("data_manager")
    form = {"name": "Voice arm", "description": "", "llm_provider": "", "llm_model": " ",
            "prompt_version": "2026-01", "tts_enabled": "y", "tts_voice": "Aria"}
    assert site.post("/admin/cohorts/new/", form, token_page="/admin/cohorts/new/").status_code == 302
    cohort = db.session.execute(db.select(Cohort).where(Cohort.name == "Voice arm")).scalar_one()
    assert (cohort.llm_provider, cohort.llm_model, cohort.prompt_version, cohort.tts_enabled,
            cohort.tts_voice) == (None, None, "2026-01", True, "Aria")

    too_long = {**form, "name": "Other", "prompt_version": "x" * 41}
    page = site.post("/admin/cohorts/new/", too_long, token_page="/admin/cohorts/new/").get_data(as_text=True)
    assert "40" in page and db.session.execute(db.select(Cohort).where(Cohort.name == "Other")).first() is None

    page = site.get("/admin/cohorts/new/").get_data(as_text=True)
    for provider in ("curated", "openai", "groq"):
        assert f'value="{provider}"' in page


def test_a_cohort_with_research_ids_cannot_be_deleted(study, signed_in):
    site = signed_in("admin")
    pk = row_id(Cohort, name="Demo cohort")
    response = site.post("/admin/cohorts/delete/", {"id": str(pk)}, follow_redirects=True)
    assert "still has 10 research IDs; move them to another cohort first." in response.get_data(as_text=True)
    assert db.session.get(Cohort, pk) is not None


def test_messages_show_metrics_and_safety_flags(study, signed_in):
    site = signed_in("investigator")
    page = site.get("/admin/messages/?search=statin").get_data(as_text=True)
    assert "Can I stop my statin?" in page and "talk with your care team" not in page
    flagged = site.get("/admin/messages/?flt0_safety_flag_raised=yes").get_data(as_text=True)
    assert "medication_change" in flagged and "stop_medicine" in flagged and "120.5" in flagged
    assert "Can I stop my statin?" not in flagged
    by_participant = site.get("/admin/messages/?flt0_research_id_equals=rid001").get_data(as_text=True)
    assert "Can I stop my statin?" in by_participant
    assert "Can I stop" not in site.get("/admin/messages/?flt0_research_id_equals=RID002").get_data(as_text=True)

    rows = list(csv.DictReader(io.StringIO(site.get("/admin/messages/export/csv/").get_data(as_text=True))))
    reply = next(r for r in rows if r["Role"] == "assistant")
    assert reply["First token (ms)"] == "120.5" and reply["Total (ms)"] == "900.0"
    assert reply["Safety Category"] == "medication_change"


def test_conversations_link_to_their_messages(study, signed_in):
    site = signed_in("investigator")
    page = site.get("/admin/conversations/").get_data(as_text=True)
    link = re.search(r'href="([^"]+)">2 messages</a>', page).group(1)
    assert "Can I stop my statin?" in site.get(link.replace("&amp;", "&")).get_data(as_text=True)


def test_adherence_records_are_checked(study, signed_in):
    site = signed_in("data_manager")
    form = {"research_id": "rid002", "date": "2026-02-01", "measure": "refill_pdc", "value": "0.8",
            "source": "pharmacy"}
    assert site.post("/admin/adherence/new/", form, token_page="/admin/adherence/new/").status_code == 302
    record = db.session.execute(db.select(AdherenceRecord).where(AdherenceRecord.research_id == "RID002")).scalar_one()
    assert (record.measure, record.value) == ("refill_pdc", 0.8)

    page = site.post("/admin/adherence/new/", {**form, "research_id": "NOPE"},
                     token_page="/admin/adherence/new/").get_data(as_text=True)
    assert "Research ID NOPE does not exist." in page
    page = site.post("/admin/adherence/new/", {**form, "value": "-1", "date": "2026-02-02"},
                     token_page="/admin/adherence/new/").get_data(as_text=True)
    assert "-1 is outside 0-1." in page
    page = site.post("/admin/adherence/new/", {**form, "value": "nan", "date": "2026-02-03"},
                     token_page="/admin/adherence/new/").get_data(as_text=True)
    assert "The value must be a number from 0 to 1." in page
    # 85 beside 0.85 would corrupt every average: percent is refused, with the scale explained.
    page = site.post("/admin/adherence/new/", {**form, "value": "85", "date": "2026-02-04"},
                     token_page="/admin/adherence/new/").get_data(as_text=True)
    assert "85 is outside 0-1. Values are a fraction of doses taken, from 0 to 1 (85 % is 0.85)." in page
    stored = db.session.execute(db.select(AdherenceRecord.value).where(AdherenceRecord.research_id == "RID002"))
    assert stored.scalars().all() == [0.8]


def test_staff_accounts(study, signed_in):
    site = signed_in("admin")
    new = {"email": "Newcomer@Study.example.org", "role": "data_manager", "active": "y",
           "new_password": "short", "confirm_password": "short"}
    page = site.post("/admin/staff/new/", new, token_page="/admin/staff/new/").get_data(as_text=True)
    assert "at least 12 characters" in page
    page = site.post("/admin/staff/new/", {**new, "new_password": "a long enough passphrase"},
                     token_page="/admin/staff/new/").get_data(as_text=True)
    assert "do not match" in page
    good = {**new, "new_password": "a long enough passphrase", "confirm_password": "a long enough passphrase"}
    assert site.post("/admin/staff/new/", good, token_page="/admin/staff/new/").status_code == 302
    user = db.session.execute(db.select(StaffUser).where(StaffUser.email == "newcomer@study.example.org")).scalar_one()
    assert user.role == "data_manager" and user.password_hash.startswith("$argon2id$")

    me = row_id(StaffUser, email="admin@study.example.org")
    page = site.post(f"/admin/staff/edit/?id={me}", {"role": "investigator", "active": "y"},
                     token_page=f"/admin/staff/edit/?id={me}").get_data(as_text=True)
    assert "cannot remove your own admin role" in page
    response = site.post("/admin/staff/delete/", {"id": str(me)}, follow_redirects=True)
    assert "You cannot delete your own account." in response.get_data(as_text=True)
    page = site.get("/admin/staff/").get_data(as_text=True)
    assert "password_hash" not in page and "$argon2" not in page


def test_an_admin_can_unlock_an_account(study, signed_in, app):
    from .conftest import Site

    site = signed_in("admin")
    locked = row_id(StaffUser, email="spare@study.example.org")
    other = Site(app.test_client())
    for _ in range(5):
        other.sign_in("spare@study.example.org", "wrong password 123")
    assert db.session.get(StaffUser, locked).locked_until is not None
    site.post(f"/admin/staff/edit/?id={locked}", {"role": "investigator", "active": "y", "unlock": "y"},
              token_page=f"/admin/staff/edit/?id={locked}")
    db.session.expire_all()
    assert db.session.get(StaffUser, locked).locked_until is None
    assert other.sign_in("spare@study.example.org").status_code == 302


def test_the_audit_log_can_be_searched_and_verified(study, signed_in):
    site = signed_in("admin")
    page = site.get("/admin/audit/?search=signin").get_data(as_text=True)
    assert "signin.success" in page and "admin@study.example.org" in page
    response = site.get("/admin/audit/verify/", follow_redirects=True)
    assert re.search(r"Checked \d+ audit events: the chain is intact.", response.get_data(as_text=True))
    pk = audit_events()[0].id
    assert site.get(f"/admin/audit/edit/?id={pk}").status_code == 403
    details = site.get(f"/admin/audit/details/?id={pk}").get_data(as_text=True)
    assert "Prev Hash" in details and audit_events()[0].hash in details


def test_exports_write_formula_like_cells_as_text(study, signed_in, client):
    """A participant's message, and a failed sign-in's email in the audit log, cannot run as formulas."""
    from paco.models import Message, utcnow
    from paco.spreadsheet import original

    db.session.add(Message(conversation_id=db.session.execute(db.select(Message.conversation_id)).scalars().first(),
                           role="user", content='=HYPERLINK("http://evil.example","click")', created_at=utcnow()))
    db.session.commit()
    Site(client).sign_in("@SUM(1+1)*cmd|' /C calc'!A0", "wrong password")
    site = signed_in("admin")
    messages = list(csv.DictReader(io.StringIO(site.get("/admin/messages/export/csv/").get_data(as_text=True))))
    cell = next(r["Content"] for r in messages if "HYPERLINK" in r["Content"])
    assert cell == '\'=HYPERLINK("http://evil.example","click")'
    assert original(cell) == '=HYPERLINK("http://evil.example","click")'
    events = list(csv.DictReader(io.StringIO(site.get("/admin/audit/export/csv/").get_data(as_text=True))))
    actors = [r["Actor"] for r in events]
    assert "'@sum(1+1)*cmd|' /c calc'!a0" in actors or "'@SUM(1+1)*cmd|' /C calc'!A0" in actors
    assert not any(a.startswith(("=", "+", "-", "@")) for row in events + messages for a in row.values())
