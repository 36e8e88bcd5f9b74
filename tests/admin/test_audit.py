"""Audit events for every kind of staff action, written in the same transaction as the change."""
from __future__ import annotations

import json
import threading

import pytest

from paco.extensions import db
from paco.models import AdherenceRecord, Cohort, Disclaimer, ResearchID
from paco.services import audit

from .conftest import Site, audit_events, row_id

ADMIN_EMAIL = "admin@study.example.org"


def detail(event) -> dict:
    return json.loads(event.detail)


def test_create_update_delete_are_audited_with_before_and_after(study, signed_in):
    site = signed_in("admin")
    response = site.post("/admin/cohorts/new/", {"name": "Arm B", "description": "Voice arm",
                                                 "llm_provider": "openai", "tts_enabled": "y"},
                         token_page="/admin/cohorts/new/")
    assert response.status_code == 302
    cohort = db.session.execute(db.select(Cohort).where(Cohort.name == "Arm B")).scalar_one()
    created = audit_events("create")[-1]
    assert (created.actor, created.target, created.ip) == (ADMIN_EMAIL, f"cohorts:{cohort.id}", "127.0.0.1")
    assert detail(created)["after"]["llm_provider"] == "openai"

    response = site.post(f"/admin/cohorts/edit/?id={cohort.id}",
                         {"name": "Arm B", "description": "Voice arm", "llm_provider": "groq",
                          "tts_enabled": "y"}, token_page=f"/admin/cohorts/edit/?id={cohort.id}")
    assert response.status_code == 302
    updated = audit_events("update")[-1]
    assert detail(updated) == {"before": {"llm_provider": "openai"}, "after": {"llm_provider": "groq"}}

    response = site.post("/admin/cohorts/delete/", {"id": str(cohort.id)})
    assert response.status_code == 302
    deleted = audit_events("delete")[-1]
    assert deleted.target == f"cohorts:{cohort.id}" and detail(deleted)["before"]["name"] == "Arm B"
    assert audit.verify_chain().intact


def test_bulk_actions_are_audited(study, signed_in):
    site = signed_in("data_manager")
    pks = [row_id(ResearchID, research_id=r) for r in ("RID002", "RID003")]
    site.action("/admin/research-ids/", "pause", pks)
    event = audit_events("bulk.pause")[-1]
    assert event.actor == "data_manager@study.example.org" and event.target == "research_ids"
    assert detail(event)["before"] == {"RID002": "active", "RID003": "active"}
    assert detail(event)["changed"] == ["RID002", "RID003"]


def test_sign_ins_and_exports_are_audited(study, signed_in, app):
    site = signed_in("investigator")
    Site(app.test_client()).sign_in("investigator@study.example.org", "a wrong password")
    csv = site.get("/admin/research-ids/export/csv/?search=RID00").get_data(as_text=True)
    assert csv.splitlines()[0].startswith("Research ID,")
    kinds = [e.action for e in audit_events() if e.actor == "investigator@study.example.org"]
    assert kinds == ["signin.success", "signin.failure", "export"]
    export = audit_events("export")[-1]
    assert export.target == "research_ids"
    assert detail(export)["rows"] == 9 and detail(export)["search"] == "RID00"


def test_a_change_that_fails_leaves_no_audit_event(study, signed_in):
    site = signed_in("data_manager")
    before = len(audit_events())
    # The same research ID, day, measure and source as the study's existing record.
    response = site.post("/admin/adherence/new/", {"research_id": "rid001", "date": "2026-01-05",
                                                   "measure": "pill_count", "value": "0.5",
                                                   "source": "clinic visit"},
                         token_page="/admin/adherence/new/")
    assert "conflicts with an existing record" in response.get_data(as_text=True)
    assert len(audit_events()) == before
    assert db.session.execute(db.select(db.func.count(AdherenceRecord.id))).scalar() == 1


def test_no_change_is_saved_without_its_audit_event(study, monkeypatch):
    cohort = db.session.execute(db.select(Cohort).where(Cohort.name == "Spare cohort")).scalar_one()

    def broken_record(*args, **kwargs):
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr(audit, "record", broken_record)
    with pytest.raises(RuntimeError):
        audit.update(cohort, lambda c: setattr(c, "name", "Renamed"), "someone", None)
    db.session.expire_all()
    assert db.session.get(Cohort, cohort.id).name == "Spare cohort"


def test_publishing_a_disclaimer_is_audited(study, signed_in):
    site = signed_in("admin")
    draft = db.session.execute(db.select(Disclaimer).where(Disclaimer.version == 2)).scalar_one()
    site.action("/admin/disclaimers/", "publish", [draft.id])
    event = audit_events("disclaimer.publish")[-1]
    assert event.target == "disclaimers:2" and detail(event)["version"] == 2


def test_secrets_never_reach_the_log(study, signed_in):
    site = signed_in("admin")
    pk = row_id_staff = db.session.execute(db.text(
        "SELECT id FROM staff_users WHERE email = 'spare@study.example.org'")).scalar()
    site.post(f"/admin/staff/edit/?id={pk}", {"role": "investigator", "active": "y",
                                              "new_password": "another long passphrase",
                                              "confirm_password": "another long passphrase"},
              token_page=f"/admin/staff/edit/?id={row_id_staff}")
    event = audit_events("update")[-1]
    assert event.target == "staff_users:spare@study.example.org"
    assert set(detail(event)["after"]) >= {"password_hash"}
    assert "argon2" not in event.detail and "passphrase" not in event.detail


# --- the chain ---------------------------------------------------------------------------------

def _append(n: int, actor: str = "tester") -> None:
    for i in range(n):
        audit.record_and_commit(actor, "test.event", f"thing:{i}", {"i": i}, "10.0.0.1")


def tamper(sql: str, **params) -> None:
    """Change the log behind the application's back, as someone with database access could."""
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(db.text("SET LOCAL session_replication_role = replica"))  # skip the triggers
        conn.execute(db.text(sql), params)


def test_verify_passes_on_a_clean_log(app, runner):
    _append(5)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0
    assert result.output.splitlines()[0] == "checked 5 audit events: chain intact"


def test_verify_names_a_changed_row(app, runner):
    _append(5)
    third = audit_events()[2]
    tamper("UPDATE audit_events SET detail = :d WHERE id = :id", d='{"i":99}', id=third.id)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"broken link at audit event {third.id} (its contents do not match" in result.output
    assert "2 events before it are intact" in result.output


def test_a_row_re_hashed_without_the_key_is_named_itself(app, runner):
    _append(5)
    third = audit_events()[2]
    forged = audit.event_hash(third.prev_hash, third.at, third.actor, third.action, third.target, '{"i":99}', third.ip)
    tamper("UPDATE audit_events SET detail = :d, hash = :h WHERE id = :id", d='{"i":99}', h=forged, id=third.id)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"broken link at audit event {third.id} (its contents do not match" in result.output


def test_verify_names_the_row_after_one_rewritten_with_the_key(app, runner):
    _append(5)
    events = audit_events()
    third, fourth = events[2], events[3]
    forged = audit.event_hash(third.prev_hash, third.at, third.actor, third.action, third.target,
                              '{"i":99}', third.ip, app.config["PACO_AUDIT_KEY"].encode())
    tamper("UPDATE audit_events SET detail = :d, hash = :h WHERE id = :id", d='{"i":99}', h=forged, id=third.id)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"broken link at audit event {fourth.id} (it does not point to the event before it" in result.output


def test_verify_notices_a_removed_row(app, runner):
    _append(5)
    events = audit_events()
    tamper("DELETE FROM audit_events WHERE id = :id", id=events[1].id)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and f"broken link at audit event {events[2].id}" in result.output


def test_concurrent_writers_keep_one_chain(app):
    errors = []

    def writer(name):
        try:
            with app.app_context():
                _append(15, actor=name)
                db.session.remove()
        except Exception as err:  # reported below; a thread's exception is otherwise lost
            errors.append(err)

    threads = [threading.Thread(target=writer, args=(f"writer-{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    report = audit.verify_chain()
    assert report.intact and report.checked == 60


def test_a_fork_is_refused_by_the_database(app):
    from sqlalchemy.exc import IntegrityError

    from paco.models import AuditEvent, utcnow

    first = audit.record_and_commit("a", "test.event")
    at = utcnow()
    fork = AuditEvent(at=at, actor="b", action="test.event", target="", detail="{}", ip=None,
                      prev_hash=first.prev_hash,
                      hash=audit.event_hash(first.prev_hash, at, "b", "test.event", "", "{}", None))
    db.session.add(fork)
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
