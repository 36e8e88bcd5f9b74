"""A paused or withdrawn participant is told so, and whom to contact (the cohort's contact text),
while a stranger typing IDs learns nothing: the same answer, from the same statements, for unknown,
paused and withdrawn IDs unless the request proves it holds the ID."""
from __future__ import annotations

import statistics
import time
import uuid

import jwt as pyjwt
import pytest
from sqlalchemy import event

from paco.extensions import db
from paco.models import Cohort, ResearchID

API = "/api/v1/auth"
CONTACT = "Call Ana, the study nurse, on 555-0100 (weekdays 9 to 5)."
PAUSED = f"Your study team has paused your access to PaCo for now. {CONTACT}"
WITHDRAWN = f"Your access to PaCo has ended because you are no longer taking part in the study. {CONTACT}"
NOT_ACCEPTED = ("We could not find an active research ID like that. Check the card your study team gave you. "
                "If it is right, please contact your study team.")


def _set(research_id, status):
    db.session.execute(db.update(ResearchID).where(ResearchID.research_id == research_id).values(status=status))
    db.session.execute(db.update(Cohort).values(contact_text=CONTACT))
    db.session.commit()


def _token(app, research_id, expired=False):
    now = int(time.time())
    claims = {"sub": research_id, "jti": str(uuid.uuid4()), "type": "access", "fresh": False, "iat": now - 7200,
              "nbf": now - 7200, "exp": now - 3600 if expired else now + 3600}
    return pyjwt.encode(claims, app.config["JWT_SECRET_KEY"], algorithm="HS256")


def _answers(client, research_id, headers=None):
    out = []
    for path in ("validate-research-id", "acknowledge-disclaimer", "login"):
        r = client.post(f"{API}/{path}", json={"research_id": research_id}, headers=headers or {})
        out.append((r.status_code, r.get_json(), sorted(k for k in r.headers.keys() if k != "Date"),
                    r.headers.get("Set-Cookie")))
    return out


def test_strangers_get_one_answer_from_the_same_statements_whatever_the_id(app, demo):
    _set("RID005", "paused")
    _set("RID006", "withdrawn")
    statements: list[str] = []

    def note(conn, cursor, sql, *args):
        statements.append(sql)

    event.listen(db.engine, "before_cursor_execute", note)
    seen = {}
    try:
        for research_id in ("NOPE999", "RID005", "RID006"):
            statements.clear()
            seen[research_id] = (_answers(app.test_client(), research_id), list(statements))
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    assert seen["NOPE999"] == seen["RID005"] == seen["RID006"]
    assert len(seen["NOPE999"][1]) >= 3  # statements were seen: one standing query per call
    assert seen["NOPE999"][0][0][1] == {"valid": False, "disclaimer_required": False, "message": NOT_ACCEPTED}
    # A token or device cookie for another ID proves nothing about this one.
    other = {"Authorization": f"Bearer {_token(app, 'RID001')}"}
    assert _answers(app.test_client(), "RID005", other) == _answers(app.test_client(), "NOPE999", other)


def test_the_answers_take_the_same_time(app, demo):
    # The same work is done for every typed ID (the proof is checked before the lookup, one query
    # either way): medians of interleaved calls stay within noise of each other.
    _set("RID005", "paused")
    client = app.test_client()
    times = {"NOPE999": [], "RID005": [], "RID001": []}
    for _ in range(40):
        for research_id, spent in times.items():
            began = time.perf_counter()
            client.post(f"{API}/validate-research-id", json={"research_id": research_id})
            spent.append(time.perf_counter() - began)
    unknown, paused = statistics.median(times["NOPE999"]), statistics.median(times["RID005"])
    assert abs(unknown - paused) < max(0.002, 0.5 * unknown), (unknown, paused)


@pytest.mark.parametrize("status, message", [("paused", PAUSED), ("withdrawn", WITHDRAWN)])
@pytest.mark.parametrize("proof", ["token", "expired_token", "device_cookie"])
def test_the_ids_holder_is_told_and_whom_to_contact(app, client, login, status, message, proof):
    headers = login("RID005")  # signing in sets the device cookie on this client
    _set("RID005", status)
    if proof == "device_cookie":
        headers = {}
        client.delete_cookie("access_token_cookie", path="/api/")  # the device cookie alone
        assert client.get_cookie("access_token_cookie", path="/api/") is None
    elif proof == "expired_token":
        headers = {"Authorization": f"Bearer {_token(app, 'RID005', expired=True)}"}
        client = app.test_client()
    else:
        client = app.test_client()
    r = client.post(f"{API}/validate-research-id", json={"research_id": "rid005"}, headers=headers)
    assert r.status_code == 200
    assert r.get_json() == {"valid": False, "disclaimer_required": False, "access": status, "message": message}
    for path in ("acknowledge-disclaimer", "login"):
        r = client.post(f"{API}/{path}", json={"research_id": "RID005"}, headers=headers)
        assert (r.status_code, r.get_json()["error"]) == (403, {"code": "research_id_inactive", "message": message})


def test_a_signed_in_holder_is_told_on_every_call_and_the_cohort_text_is_optional(app, client, login):
    headers = login("RID005")
    _set("RID005", "paused")
    r = client.get(f"{API}/session", headers=headers)
    assert (r.status_code, r.get_json()["error"]) == (403, {"code": "research_id_inactive", "message": PAUSED})
    db.session.execute(db.update(Cohort).values(contact_text="  "))
    db.session.commit()
    r = client.get(f"{API}/session", headers=headers)
    assert r.get_json()["error"]["message"] == ("Your study team has paused your access to PaCo for now. "
                                                "Please contact your study team if you have questions.")


def test_the_device_cookie_is_signed_kept_to_sign_in_paths_and_gone_after_signing_out(app, client, login):
    login("RID005")
    cookie = client.get_cookie("paco_device", path="/api/v1/auth/")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Strict"
    assert cookie.path == "/api/v1/auth/" and cookie.expires is not None
    _set("RID005", "paused")
    forged = app.test_client()
    forged.set_cookie("paco_device", cookie.value[:-3] + "abc", path="/api/v1/auth/")
    assert forged.post(f"{API}/validate-research-id", json={"research_id": "RID005"}).get_json()["message"] == \
        NOT_ACCEPTED
    client.post(f"{API}/logout")
    assert client.get_cookie("paco_device", path="/api/v1/auth/") is None
    r = client.post(f"{API}/validate-research-id", json={"research_id": "RID005"})
    assert r.get_json()["message"] == NOT_ACCEPTED
