"""One error family, mapped once per edge: the same refusal reads the same way on REST, the
chat socket, the admin site and the CLI."""
from __future__ import annotations

import pytest

from paco import errors
from paco.chat.frames import error_frame
from paco.rest import STATUS_BY_KIND, status_of
from paco.services import consent

KINDS = {cls.kind: cls for cls in errors.PacoError.__subclasses__()}


def test_every_kind_of_domain_error_has_a_rest_status():
    assert set(KINDS) == set(STATUS_BY_KIND)
    assert [status_of(KINDS[k]("x", "y")) for k in ("invalid", "unauthorized", "forbidden", "not_found",
                                                   "conflict", "too_large", "unsupported_media_type",
                                                   "rate_limited", "unavailable")] \
        == [400, 401, 403, 404, 409, 413, 415, 429, 503]


def test_the_socket_turns_any_unauthorized_into_invalid_token_and_keeps_retry_after():
    assert error_frame(errors.Unauthorized("token_expired", "Sign in again."), client_id="c1") == {
        "type": "error", "code": "invalid_token", "message": "Sign in again.", "client_id": "c1"}
    frame = error_frame(errors.RateLimited("rate_limited", "Wait 7 seconds.", retry_after=7))
    assert (frame["code"], frame["retry_after"]) == ("rate_limited", 7)
    assert error_frame(errors.Forbidden("research_id_inactive", "Not active."))["code"] == "forbidden"


def test_rest_answers_a_refusal_with_the_status_its_kind_names(client, demo):
    response = client.post("/api/v1/auth/acknowledge-disclaimer", json={"research_id": "RID001", "version": 7})
    assert response.status_code == 409  # Conflict
    assert response.get_json()["error"]["code"] == "disclaimer_outdated"
    response = client.post("/api/v1/auth/validate-research-id", data=b"[1,", content_type="application/json")
    assert (response.status_code, response.get_json()["error"]["code"]) == (400, "malformed_json")


def test_the_cli_prints_a_refusal_with_its_code_and_exits_1(runner):
    args = ["staff", "create", "--email", "a@study.example.org", "--role", "admin"]
    assert runner.invoke(args=args, input="a long enough passphrase\n" * 2).exit_code == 0
    result = runner.invoke(args=args, input="a long enough passphrase\n" * 2)
    assert result.exit_code == 1
    assert "already exists" in result.output


def test_the_admin_site_and_services_share_one_refusal(app):
    with pytest.raises(errors.Conflict) as refused:
        draft = consent.create_draft("Version text.", "test", None)
        consent.publish(draft, "test", None)
        consent.publish(draft, "test", None)
    assert refused.value.code == "already_published"



def test_a_database_that_is_not_answering_reads_503_unavailable_on_rest(caplog):
    """The database is down (nothing listens on its port): the API says so, with a time to come
    back, instead of a bug's 500."""
    from paco import create_app
    from tests.conftest import TEST_SETTINGS

    app = create_app({**TEST_SETTINGS, "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://postgres@127.0.0.1:1/test"})
    r = app.test_client().post("/api/v1/auth/validate-research-id", json={"research_id": "RID001"})
    assert r.status_code == 503, r.get_json()
    assert r.get_json()["error"]["code"] == "unavailable"
    assert int(r.headers["Retry-After"]) > 0
    assert not any(record.exc_info for record in caplog.records)  # one warning line, no traceback
