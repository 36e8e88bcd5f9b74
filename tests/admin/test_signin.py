"""Staff sign-in: one refusal message, lockout, sign-out, idle timeout, cookie flags, sessions."""
from __future__ import annotations

from datetime import timedelta

from paco.extensions import db
from paco.models import StaffUser, utcnow

from .conftest import PASSWORD, PRODUCTION_HASHER, Site, audit_events, csrf_token

REFUSED = "That email and password did not work"


def test_passwords_are_hashed_with_argon2id_at_full_cost():
    # The other tests use a cheap hasher; the site itself uses argon2-cffi's RFC 9106 defaults.
    assert PRODUCTION_HASHER.type.name == "ID"
    assert PRODUCTION_HASHER.time_cost >= 3 and PRODUCTION_HASHER.memory_cost >= 64 * 1024


def test_sign_in_page_has_the_documented_fields(client):
    page = client.get("/admin/login/").get_data(as_text=True)
    for name in ('name="email"', 'name="password"', 'name="csrf_token"'):
        assert name in page
    assert "//cdn" not in page and "https://" not in page


def test_sign_in_and_out(make_staff, site):
    make_staff("data_manager", "dm@study.example.org")
    response = site.sign_in("DM@Study.example.org ", PASSWORD)  # email is case-insensitive
    assert response.status_code == 302 and response.headers["Location"] == "/admin/"
    page = site.get("/admin/").get_data(as_text=True)
    assert "dm@study.example.org" in page and "data manager" in page and "Sign out" in page

    response = site.sign_out()
    assert response.status_code == 302 and response.headers["Location"] == "/admin/login/"
    assert site.get("/admin/").status_code == 302
    assert [e.action for e in audit_events()][-2:] == ["signin.success", "signout"]


def test_signing_out_ends_copies_of_the_session_cookie(make_staff, site, app):
    make_staff("admin")
    site.sign_in("admin@study.example.org")
    copy = app.test_client()
    copy.set_cookie("session", site.client.get_cookie("session").value)
    assert copy.get("/admin/").status_code == 200
    site.sign_out()
    assert copy.get("/admin/").status_code == 302


def test_sign_in_returns_to_the_page_asked_for_but_never_elsewhere(make_staff, client):
    make_staff("admin")
    site = Site(client)
    target = client.get("/admin/cohorts/").headers["Location"]
    token = csrf_token(client.get(target).get_data(as_text=True))
    response = client.post(target, data={"email": "admin@study.example.org", "password": PASSWORD,
                                         "csrf_token": token})
    assert response.headers["Location"] == "/admin/cohorts/"
    site.sign_out()
    token = site.token("/admin/login/")
    response = client.post("/admin/login/?next=https://evil.example/", data={
        "email": "admin@study.example.org", "password": PASSWORD, "csrf_token": token})
    assert response.headers["Location"] == "/admin/"


def test_unknown_email_and_wrong_password_get_the_same_answer(make_staff, site):
    make_staff("admin")
    unknown = site.sign_in("nobody@study.example.org", PASSWORD)
    wrong = site.sign_in("admin@study.example.org", "not the password at all")
    assert unknown.status_code == wrong.status_code == 401
    assert REFUSED in unknown.get_data(as_text=True) and REFUSED in wrong.get_data(as_text=True)
    failures = audit_events("signin.failure")
    assert [e.actor for e in failures] == ["nobody@study.example.org", "admin@study.example.org"]
    assert ['"reason":"unknown_email"' in failures[0].detail, '"reason":"wrong_password"' in failures[1].detail] == [True, True]  # noqa: E501


def test_five_failures_lock_the_account_for_fifteen_minutes(make_staff, site):
    user = make_staff("admin")
    for _ in range(5):
        assert site.sign_in(user.email, "wrong password 123").status_code == 401
    db.session.expire_all()
    user = db.session.get(StaffUser, user.id)
    remaining = user.locked_until - utcnow()
    assert timedelta(minutes=14) < remaining <= timedelta(minutes=15)
    assert len(audit_events("signin.locked")) == 1

    # While locked, even the right password is refused, with the same message.
    response = site.sign_in(user.email, PASSWORD)
    assert response.status_code == 401 and REFUSED in response.get_data(as_text=True)
    assert '"reason":"locked"' in audit_events("signin.failure")[-1].detail

    # Once the lock has expired the right password works again.
    user.locked_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert site.sign_in(user.email, PASSWORD).status_code == 302


def test_lockout_settings_are_configurable(make_app):
    app = make_app(PACO_STAFF_LOCKOUT_FAILURES=2, PACO_STAFF_LOCKOUT_MINUTES=60)
    with app.app_context():
        from paco.services import staff

        user = staff.create_staff("admin@study.example.org", "admin", PASSWORD, actor="test")
        site = Site(app.test_client())
        site.sign_in(user.email, "wrong password 123")
        site.sign_in(user.email, "wrong password 123")
        db.session.expire_all()
        locked_until = db.session.get(StaffUser, user.id).locked_until
        assert locked_until - utcnow() > timedelta(minutes=59)


def test_a_disabled_account_cannot_sign_in_and_loses_its_session(make_staff, site, app):
    user = make_staff("investigator")
    assert site.sign_in(user.email).status_code == 302
    user.active = False
    db.session.commit()
    assert site.get("/admin/").status_code == 302  # the open session ends at once
    assert site.sign_in(user.email).status_code == 401


def test_a_new_password_ends_other_sessions(make_staff, app):
    from paco.services import staff

    user = make_staff("investigator")
    laptop, phone = Site(app.test_client()), Site(app.test_client())
    assert laptop.sign_in(user.email).status_code == 302
    staff.set_password(user, "a brand new passphrase", actor="test")
    assert laptop.get("/admin/").status_code == 302
    assert phone.sign_in(user.email, "a brand new passphrase").status_code == 302


def test_idle_sessions_time_out(signed_in):
    site = signed_in("admin")
    assert site.get("/admin/").status_code == 200
    with site.client.session_transaction() as session:
        session["staff_seen"] -= 31 * 60
    response = site.get("/admin/cohorts/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/admin/login/")
    page = site.get(response.headers["Location"]).get_data(as_text=True)
    assert "signed out after 30 minutes without activity" in page
    assert audit_events("signout.timeout")[-1].actor == "admin@study.example.org"


def test_activity_keeps_the_session_alive(signed_in):
    site = signed_in("admin")
    with site.client.session_transaction() as session:
        session["staff_seen"] -= 29 * 60
    assert site.get("/admin/").status_code == 200
    with site.client.session_transaction() as session:
        session["staff_seen"] -= 29 * 60  # 58 minutes since sign-in, but only 29 idle
    assert site.get("/admin/").status_code == 200


def test_session_cookie_flags(make_staff, site):
    make_staff("admin")
    cookie = site.sign_in("admin@study.example.org").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_session_cookie_is_secure_when_configured(make_app):
    app = make_app(PACO_COOKIE_SECURE=True)
    with app.app_context():
        from paco.services import staff

        staff.create_staff("admin@study.example.org", "admin", PASSWORD, actor="test")
        client = app.test_client()
        page = client.get("/admin/login/", base_url="https://localhost")
        token = csrf_token(page.get_data(as_text=True))
        # Over HTTPS, Flask-WTF also insists on a same-site Referer.
        response = client.post("/admin/login/", base_url="https://localhost", data={
            "email": "admin@study.example.org", "password": PASSWORD, "csrf_token": token},
            headers={"Referer": "https://localhost/admin/login/"})
        assert response.status_code == 302
        assert "Secure" in response.headers["Set-Cookie"]


def test_admin_pages_are_not_cached_or_framed(signed_in):
    response = signed_in("admin").get("/admin/")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Frame-Options"] == "DENY"
