"""``flask staff create`` as an operator runs it: password twice (here from stdin), clear refusals."""
from __future__ import annotations

from datetime import timedelta

from paco.extensions import db
from paco.models import StaffUser, utcnow

from .conftest import Site, audit_events

GOOD = "a long enough passphrase"


def create(runner, email="first@study.example.org", role="admin", stdin=f"{GOOD}\n{GOOD}\n"):
    return runner.invoke(args=["staff", "create", "--email", email, "--role", role], input=stdin)


def accounts() -> list[str]:
    return list(db.session.execute(db.select(StaffUser.email)).scalars())


def test_create_the_first_admin_and_sign_in(runner, client):
    result = create(runner, email="First@Study.example.org")
    assert result.exit_code == 0, result.output
    assert "Created admin account first@study.example.org" in result.output
    event = audit_events("create")[-1]
    assert event.actor.startswith("cli") and event.target == "staff_users:first@study.example.org"
    assert Site(client).sign_in("first@study.example.org", GOOD).status_code == 302


def test_mismatched_passwords_are_refused(runner):
    result = create(runner, stdin=f"{GOOD}\n{GOOD}x\n")
    assert result.exit_code == 1 and "The two passwords do not match" in result.output
    assert accounts() == []


def test_weak_passwords_are_refused(runner):
    result = create(runner, stdin="short\nshort\n")
    assert result.exit_code == 1 and "at least 12 characters" in result.output
    assert accounts() == []


def test_unknown_roles_bad_emails_and_duplicates_are_refused(runner):
    assert create(runner, role="superuser").exit_code == 2
    result = create(runner, email="not-an-email")
    assert result.exit_code == 1 and "valid email" in result.output
    assert create(runner).exit_code == 0
    result = create(runner)
    assert result.exit_code == 1 and "already exists" in result.output
    assert accounts() == ["first@study.example.org"]


def test_set_password_unlocks(runner, client):
    create(runner, role="investigator")
    user = db.session.execute(db.select(StaffUser)).scalar_one()
    user.locked_until = utcnow() + timedelta(minutes=15)
    db.session.commit()
    result = runner.invoke(args=["staff", "set-password", "--email", user.email],
                           input="another passphrase!\nanother passphrase!\n")
    assert result.exit_code == 0, result.output
    assert Site(client).sign_in(user.email, "another passphrase!").status_code == 302
