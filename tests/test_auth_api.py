"""The participant sign-in flow as a seed client walks it: validate → disclaimer → acknowledge → login."""
from __future__ import annotations

import pytest

from paco.extensions import db
from paco.models import DisclaimerAcknowledgment, ResearchID
from paco.services import consent

NOT_ACCEPTED = ("We could not find an active research ID like that. Check the card your study team gave you. "
                "If it is right, please contact your study team.")

API = "/api/v1/auth"


def test_seed_flow_validate_disclaimer_acknowledge_login(client, demo):
    r = client.post(f"{API}/validate-research-id", json={"research_id": "RID001"})
    assert r.status_code == 200
    assert r.get_json()["valid"] is True and r.get_json()["disclaimer_required"] is True

    r = client.get(f"{API}/disclaimer")
    disclaimer = r.get_json()
    assert r.status_code == 200 and disclaimer["version"] == 1
    assert "not a doctor" in disclaimer["text"] and len(disclaimer["content_hash"]) == 64

    r = client.post(f"{API}/login", json={"research_id": "RID001"})
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "disclaimer_required"

    r = client.post(f"{API}/acknowledge-disclaimer", json={"research_id": "RID001"},
                    headers={"User-Agent": "SeedClient/1.0"})
    assert r.status_code == 200 and r.get_json()["acknowledged"] is True

    r = client.post(f"{API}/validate-research-id", json={"research_id": "RID001"})
    assert r.get_json() == {"valid": True, "disclaimer_required": False, "disclaimer_version": 1}

    r = client.post(f"{API}/login", json={"research_id": "RID001"})
    body = r.get_json()
    assert r.status_code == 200 and body["token_type"] == "bearer" and body["access_token"]
    assert "access_token_cookie" in r.headers.get("Set-Cookie", "")
    assert "HttpOnly" in r.headers.get("Set-Cookie", "")

    ack = db.session.execute(db.select(DisclaimerAcknowledgment)).scalar_one()
    assert (ack.research_id, ack.version, ack.user_agent) == ("RID001", 1, "SeedClient/1.0")
    assert ack.content_hash == disclaimer["content_hash"]
    assert ack.acknowledged_at.tzinfo is not None


def test_research_id_is_case_and_space_insensitive(client, demo):
    r = client.post(f"{API}/validate-research-id", json={"research_id": "  rid002 "})
    assert r.get_json()["valid"] is True


def test_acknowledging_twice_keeps_one_row(client, demo):
    for _ in range(2):
        assert client.post(f"{API}/acknowledge-disclaimer", json={"research_id": "RID003", "version": 1}).status_code == 200  # noqa: E501
    count = db.session.execute(db.select(db.func.count(DisclaimerAcknowledgment.id))).scalar()
    assert count == 1


def test_acknowledging_an_old_version_is_refused(client, demo):
    r = client.post(f"{API}/acknowledge-disclaimer", json={"research_id": "RID003", "version": 7})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "disclaimer_outdated"


def test_new_disclaimer_version_requires_a_new_acknowledgment(client, login):
    headers = login("RID004")
    draft = consent.create_draft("Version two of the study disclaimer. PaCo is not a doctor.", "test", None)
    r = client.post(f"{API}/login", json={"research_id": "RID004"})
    assert r.status_code == 200, "a draft must not change anything"
    consent.publish(draft, "test", None)

    r = client.post(f"{API}/validate-research-id", json={"research_id": "RID004"})
    assert r.get_json()["disclaimer_required"] is True
    r = client.post(f"{API}/login", json={"research_id": "RID004"})
    assert r.get_json()["error"]["code"] == "disclaimer_required"
    # An existing token is held to the new version too.
    r = client.post("/api/v1/chat/history", headers=headers,
                    json={"research_id": "RID004", "conversation_id": "c1", "limit": 10})
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "disclaimer_required"

    assert client.get(f"{API}/disclaimer").get_json()["version"] == 2
    client.post(f"{API}/acknowledge-disclaimer", json={"research_id": "RID004", "version": 2})
    assert client.post(f"{API}/login", json={"research_id": "RID004"}).status_code == 200
    versions = db.session.execute(
        db.select(DisclaimerAcknowledgment.version).where(DisclaimerAcknowledgment.research_id == "RID004")
        .order_by(DisclaimerAcknowledgment.id)).scalars().all()
    assert versions == [1, 2]


@pytest.mark.parametrize("status", ["paused", "withdrawn", None])
def test_unknown_and_inactive_ids_get_identical_answers(client, demo, status):
    research_id = "RID005" if status else "NOPE999"
    if status:
        db.session.execute(db.update(ResearchID).where(ResearchID.research_id == "RID005").values(status=status))
        db.session.commit()
    answers = []
    for path in ("validate-research-id", "acknowledge-disclaimer", "login"):
        r = client.post(f"{API}/{path}", json={"research_id": research_id})
        answers.append((r.status_code, r.get_json()))
    assert answers == [
        (200, {"valid": False, "disclaimer_required": False,
               "message": NOT_ACCEPTED}),
        (403, {"error": {"code": "research_id_not_accepted",
                         "message": NOT_ACCEPTED}}),
        (403, {"error": {"code": "research_id_not_accepted",
                         "message": NOT_ACCEPTED}}),
    ]


def test_no_published_disclaimer_is_a_clear_404(client, app):
    r = client.get(f"{API}/disclaimer")
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "no_disclaimer"


@pytest.mark.parametrize("body, code, fragment", [
    (b"{not json", "malformed_json", "not valid JSON"),
    (b"", "malformed_json", "JSON object"),
    (b"[1, 2]", "malformed_json", "JSON object"),
    (b'{"research_id": 42}', "invalid_field", "must be a string"),
    (b'{"research_id": null}', "missing_field", "required"),
    (b'{}', "missing_field", "required"),
    (b'{"research_id": "' + b"R" * 51 + b'"}', "invalid_research_id", "longer than 50"),
    (b'{"research_id": "RID\\u0000001"}', "invalid_research_id", "not allowed"),
    (b'{"research_id": "RID001\\n"}', "invalid_research_id", "not allowed"),
    (b'{"research_id": "RID 001"}', "invalid_research_id", "only letters"),
    (b'{"research_id": "   "}', "invalid_research_id", "empty"),
    (b'\xff\xfe', "malformed_json", "not valid JSON"),
])
@pytest.mark.parametrize("path", ["validate-research-id", "acknowledge-disclaimer", "login"])
def test_bad_bodies_get_specific_json_errors(client, demo, path, body, code, fragment):
    r = client.post(f"{API}/{path}", data=body, content_type="application/json")
    assert r.status_code == 400
    assert r.is_json, r.data[:200]
    assert r.get_json()["error"]["code"] == code
    assert fragment in r.get_json()["error"]["message"]


def test_wrong_type_for_version(client, demo):
    r = client.post(f"{API}/acknowledge-disclaimer", json={"research_id": "RID001", "version": "1"})
    assert r.status_code == 400 and r.get_json()["error"] == {
        "code": "invalid_field", "message": "The field 'version' must be a whole number."}
    r = client.post(f"{API}/acknowledge-disclaimer", json={"research_id": "RID001", "version": True})
    assert r.status_code == 400


def test_oversized_body_is_413_json(client, demo):
    r = client.post(f"{API}/login", data=b'{"research_id": "' + b"x" * 70000 + b'"}',
                    content_type="application/json")
    assert r.status_code == 413 and r.get_json()["error"]["code"] == "too_large"


def test_unknown_path_and_method_are_json(client, app):
    r = client.get("/api/v1/nothing-here")
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"
    r = client.get(f"{API}/login")
    assert r.status_code == 405 and r.get_json()["error"]["code"] == "method_not_allowed"


def test_sign_in_attempts_are_rate_limited(make_app):
    app = make_app(PACO_RATE_LIMIT_AUTH="3 per minute")
    client = app.test_client()
    codes = [client.post(f"{API}/validate-research-id", json={"research_id": "RID001"}).status_code
             for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    r = client.post(f"{API}/login", json={"research_id": "RID001"})
    assert r.status_code in (403, 429)
    r = client.post(f"{API}/validate-research-id", json={"research_id": "RID001"})
    assert r.get_json()["error"]["code"] == "rate_limited" and r.headers.get("Retry-After")


def test_health_and_readiness(client, app):
    assert client.get("/health").get_json() == {"status": "healthy"}
    assert client.get("/health/ready").get_json() == {"status": "ready", "database": "ok"}


def test_sign_out_clears_the_cookie(client, login):
    login("RID006")
    assert client.get(f"{API}/session").status_code == 200
    r = client.post(f"{API}/logout")
    assert r.status_code == 200
    assert client.get(f"{API}/session").status_code == 401


def test_a_mistyped_generated_id_is_named_as_a_typing_mistake(client, demo):
    from paco.services.research_id_codes import MISTYPED_MESSAGE, new_code

    good = new_code("PAD")
    body, check = good[:-1], good[-1]
    wrong_check = next(c for c in "23456789ABCDEFGH" if c != check)
    for typed in (body + wrong_check, good.replace("-", "-", 1)[:4] + "0" + good[5:]):
        r = client.post(f"{API}/login", json={"research_id": typed.lower()})
        assert (r.status_code, r.get_json()["error"]) == (400, {"code": "research_id_mistyped",
                                                                 "message": MISTYPED_MESSAGE})
        r = client.post(f"{API}/validate-research-id", json={"research_id": typed})
        assert r.get_json() == {"valid": False, "disclaimer_required": False, "message": MISTYPED_MESSAGE}
    # A well-formed generated ID that PaCo does not hold is simply unknown; and an imported ID of
    # the same shape that PaCo does hold is never refused by the check character.
    r = client.post(f"{API}/login", json={"research_id": good})
    assert r.get_json()["error"]["code"] == "research_id_not_accepted"
    from paco.services.research_id_codes import is_mistyped

    assert is_mistyped("SITE-ABCD-EFGH")
    db.session.add(ResearchID(research_id="SITE-ABCD-EFGH", status="active"))
    db.session.commit()
    assert client.post(f"{API}/validate-research-id", json={"research_id": "site-abcd-efgh"}).get_json()["valid"]
