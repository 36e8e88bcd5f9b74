"""Helpers for driving the investigator site as a person would: sign in, read pages, post forms."""
from __future__ import annotations

import re

import argon2
import pytest

from paco.extensions import db
from paco.models import AuditEvent
from paco.services import staff

PASSWORD = "correct horse battery staple"
PRODUCTION_HASHER = staff._hasher
_TOKEN_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def csrf_token(html: str) -> str:
    match = _TOKEN_RE.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1) or match.group(2)


class Site:
    """A staff member's browser: keeps the session cookie, fetches tokens the way a form would."""

    def __init__(self, client):
        self.client = client

    def get(self, path, **kwargs):
        return self.client.get(path, **kwargs)

    def token(self, page: str = "/admin/") -> str:
        return csrf_token(self.client.get(page).get_data(as_text=True))

    def sign_in(self, email: str, password: str = PASSWORD, **kwargs):
        token = self.token("/admin/login/")
        return self.client.post("/admin/login/", data={"email": email, "password": password,
                                                       "csrf_token": token}, **kwargs)

    def post(self, path: str, data: dict | None = None, token_page: str = "/admin/", **kwargs):
        return self.client.post(path, data={**(data or {}), "csrf_token": self.token(token_page)}, **kwargs)

    def action(self, view_url: str, name: str, pks, **kwargs):
        data = {"action": name, "rowid": [str(pk) for pk in pks], "url": view_url}
        return self.post(view_url + "action/", data, token_page=view_url, **kwargs)

    def sign_out(self):
        return self.post("/admin/logout/")


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch):
    """Real argon2id, minimal cost: the site's tests sign in hundreds of times."""
    monkeypatch.setattr(staff, "_hasher", argon2.PasswordHasher.from_parameters(argon2.profiles.CHEAPEST))
    monkeypatch.setattr(staff, "_dummy_hash", None)


@pytest.fixture
def make_staff(app):
    def make(role: str = "admin", email: str | None = None, password: str = PASSWORD):
        return staff.create_staff(email or f"{role}@study.example.org", role, password, actor="test-setup")

    return make


@pytest.fixture
def site(client):
    return Site(client)


@pytest.fixture
def signed_in(make_staff, site):
    """``signed_in(role)``: a Site signed in as a new staff member with that role."""

    def sign_in(role: str = "admin") -> Site:
        user = make_staff(role)
        response = site.sign_in(user.email)
        assert response.status_code == 302, response.get_data(as_text=True)
        return site

    return sign_in


def audit_events(action: str | None = None) -> list[AuditEvent]:
    db.session.expire_all()
    query = db.select(AuditEvent).order_by(AuditEvent.id)
    if action:
        query = query.where(AuditEvent.action == action)
    return list(db.session.execute(query).scalars())


@pytest.fixture
def study(demo):
    """The demo study plus one row of every kind, so every view has something to show."""
    from datetime import date

    from paco.models import (
        AdherenceRecord,
        Checkin,
        Cohort,
        Conversation,
        Disclaimer,
        Message,
        ResearchID,
        TurnMetrics,
        utcnow,
    )
    from paco.services import consent

    consent.acknowledge("RID001", consent.current_disclaimer(), "TestBrowser/1.0")
    db.session.add(Conversation(research_id="RID001", conversation_id="conv-1"))
    db.session.flush()
    db.session.add(Message(conversation_id="conv-1", role="user", content="Can I stop my statin?",
                           status="complete"))
    reply = Message(conversation_id="conv-1", role="assistant", status="complete",
                    content="Please talk with your care team before stopping any medicine.",
                    provider="curated", model="kb-1", prompt_version="v1",
                    safety_category="medication_change", safety_rule="stop_medicine")
    db.session.add(reply)
    db.session.flush()
    db.session.add(TurnMetrics(message_id=reply.id, first_token_ms=120.5, first_sentence_ms=300.0,
                               first_audio_ms=450.0, total_ms=900.0, response_chars=62, sentences=1))
    db.session.add(AdherenceRecord(research_id="RID001", date=date(2026, 1, 5), measure="pill_count",
                                   value=0.9, source="clinic visit"))
    db.session.add(Checkin(research_id="RID001", date=date(2026, 1, 5), taken="some", reason="cost", value=0.5,
                           tz_offset_minutes=-300, wording="v1"))
    db.session.add(Cohort(name="Spare cohort", description="No one in it yet."))
    db.session.add(ResearchID(research_id="RIDSPARE", status="active", enrolled_at=utcnow()))
    db.session.add(Disclaimer(version=2, text="A draft of version 2.", content_hash="0" * 64))
    db.session.commit()
    staff.create_staff("spare@study.example.org", "investigator", PASSWORD, actor="test-setup")
    return demo


def row_id(model, **where) -> int:
    return db.session.execute(db.select(model.id).filter_by(**where)).scalar_one()
