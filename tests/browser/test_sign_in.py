"""Signing in as a participant does: research ID (Enter submits), disclaimer, errors, expiry, sign-out."""
from __future__ import annotations

import re

from paco.extensions import db
from paco.models import DisclaimerAcknowledgment
from paco.services import consent
from paco.services.demo import DEMO_DISCLAIMER

NOT_FOUND = ("We could not find an active research ID like that. Check the card your study team gave you. "
             "If it is right, please contact your study team.")


def _paragraphs(text: str) -> list[str]:
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n", text) if p.strip()]


def test_sign_in_with_enter_agree_and_the_acknowledgment_is_recorded(visit):
    page = visit.open("research-id")
    assert page.evaluate("() => document.activeElement.id") == "rid-input"
    page.keyboard.type("rid001")  # IDs are case-insensitive
    page.keyboard.press("Enter")
    visit.wait_screen("disclaimer")
    page.wait_for_selector("#disclaimer-version:text('Version 1')")
    shown = page.locator("#disclaimer-text p").all_inner_texts()
    assert shown == _paragraphs(DEMO_DISCLAIMER)
    with visit.app.app_context():
        assert db.session.query(DisclaimerAcknowledgment).count() == 0
    page.get_by_role("button", name="I agree").click()
    visit.wait_screen("chat")
    with visit.app.app_context():
        (ack,) = db.session.query(DisclaimerAcknowledgment).all()
        assert (ack.research_id, ack.version) == ("RID001", 1)
        assert "Chrome" in ack.user_agent
    cookies = {c["name"]: c for c in visit.context.cookies()}
    assert cookies["access_token_cookie"]["httpOnly"] and cookies["access_token_cookie"]["path"] == "/api/"
    # The token lives only in the HttpOnly cookie: never in web storage, never readable by scripts.
    token = cookies["access_token_cookie"]["value"]
    stored = visit.storage()
    assert token not in str(stored) and "eyJ" not in str(stored)
    assert "access_token_cookie" not in page.evaluate("() => document.cookie")


def test_a_wrong_id_shows_the_error_and_a_known_id_skips_the_agreed_disclaimer(visit):
    page = visit.open("research-id")
    page.fill("#rid-input", "RID999")
    page.press("#rid-input", "Enter")
    error = page.locator("#rid-error")
    error.filter(has_text="We could not").wait_for()
    assert error.inner_text() == NOT_FOUND
    assert page.get_attribute("#rid-input", "aria-invalid") == "true"
    visit.context.request.post(visit.server.url + "/api/v1/auth/acknowledge-disclaimer",
                               data={"research_id": "RID002"})
    page.fill("#rid-input", "RID002")
    page.press("#rid-input", "Enter")
    visit.wait_screen("chat")  # already agreed to the current version: straight in


def test_rate_limited_sign_in_says_how_long_to_wait(visit):
    visit.page.route("**/api/v1/auth/validate-research-id", lambda route: route.fulfill(
        status=429, headers={"Retry-After": "42"}, content_type="application/json",
        body='{"error": {"code": "rate_limited", "message": "Too many attempts."}}'))
    page = visit.open("research-id")
    page.fill("#rid-input", "RID001")
    page.press("#rid-input", "Enter")
    page.locator("#rid-error").filter(has_text="Too many").wait_for()
    assert page.inner_text("#rid-error") == "Too many tries. Please wait 42 seconds, then try again."
    assert page.get_attribute("#rid-submit", "aria-disabled") == "true"
    assert "Please wait" in page.inner_text("#rid-submit")


def test_an_expired_session_returns_to_sign_in_and_keeps_the_typed_text(visit):
    visit.sign_in("RID003")
    page = visit.page
    page.fill("#composer-input", "Is it safe to take ibuprofen with aspirin?")
    visit.expire_session("RID003")
    page.reload()
    visit.wait_screen("research-id")
    assert page.inner_text("#rid-notice") == (
        "Your session has ended. Please enter your research ID again. What you typed is kept.")
    assert page.input_value("#rid-input") == "RID003"
    page.press("#rid-input", "Enter")
    visit.wait_screen("chat")
    assert page.input_value("#composer-input") == "Is it safe to take ibuprofen with aspirin?"


def test_a_session_that_expires_while_chatting_keeps_the_message(visit):
    visit.sign_in("RID004")
    page = visit.page
    visit.expire_session("RID004")
    # The socket authenticates at its handshake: drop the connection so it reconnects with the
    # expired cookie, as it would after a phone sleeps past the session's end.
    visit.context.set_offline(True)
    page.wait_for_selector("#connection-banner[data-state='offline']", state="attached")
    visit.context.set_offline(False)
    visit.wait_connected()
    visit.ask("What is cilostazol?")
    visit.wait_screen("research-id")
    assert "Your session has ended" in page.inner_text("#rid-notice")
    page.press("#rid-input", "Enter")
    visit.wait_screen("chat")
    assert page.input_value("#composer-input") == "What is cilostazol?"


def test_a_new_disclaimer_version_asks_again(visit):
    visit.sign_in("RID005")
    with visit.app.app_context():
        consent.publish(consent.create_draft("Version two of the study information.\n\nPlease read it.", "test", None), "test", None)  # noqa: E501
        db.session.remove()
    page = visit.page
    page.reload()
    visit.wait_screen("disclaimer")
    page.wait_for_selector("#disclaimer-version:text('Version 2')")
    assert page.locator("#disclaimer-text p").all_inner_texts() == [
        "Version two of the study information.", "Please read it."]
    assert "has changed" in page.inner_text("#disclaimer-notice")
    page.get_by_role("button", name="I agree").click()
    visit.wait_screen("chat")
    with visit.app.app_context():
        versions = {a.version for a in db.session.query(DisclaimerAcknowledgment).filter_by(research_id="RID005")}
        assert versions == {1, 2}


def test_sign_out_clears_the_session(visit):
    visit.sign_in("RID006")
    page = visit.page
    page.get_by_role("button", name="Menu").click()
    page.get_by_role("button", name="Sign out").click()
    visit.wait_screen("research-id")
    assert "signed out" in page.inner_text("#rid-notice")
    assert not any(c["name"] == "access_token_cookie" for c in visit.context.cookies())
    page.reload()
    visit.wait_screen("research-id")
    assert page.locator("#rid-notice").is_hidden()
    assert page.input_value("#rid-input") == ""


def test_a_version_published_while_reading_is_shown_before_agreeing(visit):
    page = visit.open("research-id")
    page.fill("#rid-input", "RID007")
    page.press("#rid-input", "Enter")
    page.wait_for_selector("#disclaimer-version:text('Version 1')")
    with visit.app.app_context():
        consent.publish(consent.create_draft("A newer text.", "test", None), "test", None)
        db.session.remove()
    page.get_by_role("button", name="I agree").click()
    page.wait_for_selector("#disclaimer-version:text('Version 2')")
    assert "just updated" in page.inner_text("#disclaimer-notice")
    page.get_by_role("button", name="I agree").click()
    visit.wait_screen("chat")
    with visit.app.app_context():
        (ack,) = db.session.query(DisclaimerAcknowledgment).filter_by(research_id="RID007").all()
        assert ack.version == 2
