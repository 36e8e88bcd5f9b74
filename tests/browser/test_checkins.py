"""The daily check-in as a participant meets it: the card's three answers, a reason, PaCo's guidance
streamed in the chat, the 14-day strip (shapes and words, not colour alone), a change the same day,
"Not now", the keyboard, axe-core on every step; and the participant-side gaps of issue 15."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from paco.assistant.barriers import default_guidance
from paco.extensions import db
from paco.models import AdherenceRecord, Checkin, Conversation, Message, ResearchID
from paco.services.demo import DEMO_CONTACT

from .test_accessibility import _focused, _tab_to
from .visit import DESKTOP, MEDIA_RECORDER, PHONE


def _today() -> date:
    # The browser runs in the machine's zone, as the server's clock does in these tests.
    return datetime.now().astimezone().date()


def _past(site, research_id, *answers):
    """Earlier answers, as the API would have stored them: (days back, taken)."""
    with site.app_context():
        for back, taken in answers:
            day = _today() - timedelta(days=back)
            db.session.add(Checkin(research_id=research_id, date=day, taken=taken, value={"all": 1.0, "none": 0.0,
                                   "some": 0.5}[taken], tz_offset_minutes=0, wording="v1",
                                   answered_at=datetime.now(timezone.utc) - timedelta(days=back)))
        db.session.commit()
        db.session.remove()


def _axe(visit, where):
    problems = visit.axe_problems()
    assert not problems, f"axe-core on {where}: {problems}"


def test_some_with_a_reason_gets_pacos_guidance_and_the_strip_shows_the_days(visit, screenshots):
    _past(visit.app, "RID001", (3, "all"), (2, "none"))
    visit.sign_in("RID001", checkin=True)
    page = visit.page
    card = page.locator("#checkin")
    card.get_by_text("Did you take your P.A.D. medicines today?").wait_for()
    assert page.locator("#announcer").inner_text().count("PaCo asks: Did you take your P.A.D. medicines today?") == 1
    answers = card.get_by_role("group", name="Did you take your P.A.D. medicines today?").get_by_role("button")
    assert answers.all_inner_texts() == ["All of them", "Some of them", "None of them"]
    assert page.locator("#composer-input").is_enabled()  # the chat is never blocked
    _axe(visit, "the check-in question")
    visit.shoot(screenshots, "7-checkin-question")

    card.get_by_role("button", name="Some of them").click()
    reasons = card.get_by_role("group", name="Thank you. What got in the way?").get_by_role("button")
    assert reasons.all_inner_texts() == ["I forgot", "Side effects", "The cost", "I ran out", "I skipped on purpose",
                                         "Something else"]
    assert _focused(page)["id"] == "checkin-why"
    _axe(visit, "the check-in reasons")
    card.get_by_role("button", name="I forgot").click()

    # PaCo's next message is the guidance for forgetting, streamed into the chat.
    visit.turn_ends()
    guidance = default_guidance()["forgot"].answer
    assert page.locator(".msg-user").last.inner_text().endswith(
        "Check-in: I took some of my P.A.D. medicines today. What got in the way: I forgot.")
    assert page.locator(".msg-paco").last.locator(".msg-text").inner_text() == guidance
    assert any(f["type"] == "audio" for f in visit.received), "the guidance is spoken"
    sent = [f for f in visit.sent if f.get("type") == "checkin"]
    assert len(sent) == 1 and isinstance(sent[0]["checkin_id"], int)

    # The strip: 14 days, each with a shape and words; today "some", two days back "none".
    card.get_by_text("Thank you. Today: Some of them (I forgot).").wait_for()
    days = card.locator(".strip li")
    assert days.count() == 14
    kinds = [d.get_attribute("data-kind") for d in days.all()]
    assert kinds[-1] == "some" and kinds[-3] == "none" and kinds[-4] == "all" and kinds.count("blank") == 11
    hrefs = {d.get_attribute("data-kind"): d.locator("use").get_attribute("href") for d in days.all()}
    assert len(set(hrefs.values())) == 4, "each answer has its own shape"
    assert days.last.locator(".visually-hidden").inner_text().endswith(": some of them, i forgot")
    assert card.locator(".strip-legend").inner_text().split("\n") == ["All of them", "Some of them", "None of them",
                                                                      "No answer"]
    assert card.locator(".strip-summary").inner_text() == (
        "In the last 14 days: all of them on 1, some on 1, none on 1, no answer on 11.")
    _axe(visit, "the check-in's strip")
    visit.shoot(screenshots, "8-checkin-strip")
    with visit.app.app_context():
        record = db.session.query(AdherenceRecord).filter_by(research_id="RID001", date=_today()).one()
        assert (record.measure, record.value, record.barrier, record.source) == (
            "self_report", 0.5, "forgot", "paco_checkin")

    # Changed the same day: the record follows, the history keeps both answers.
    card.get_by_role("button", name="Change today's answer").click()
    card.get_by_role("button", name="All of them").click()
    card.get_by_text("Thank you. Today: All of them.").wait_for()
    assert card.locator(".strip li").last.get_attribute("data-kind") == "all"
    with visit.app.app_context():
        assert [c.taken for c in db.session.query(Checkin).filter_by(research_id="RID001", date=_today())
                .order_by(Checkin.id)] == ["some", "all"]
        assert db.session.query(AdherenceRecord).filter_by(research_id="RID001", date=_today()).one().value == 1.0
        db.session.remove()
    card.get_by_role("button", name="Close").click()
    assert card.is_hidden()
    # Answered today: a reload does not ask again.
    page.reload()
    visit.wait_screen("chat")
    visit.wait_connected()
    page.wait_for_timeout(300)
    assert card.is_hidden()


def test_the_card_works_by_keyboard_and_own_words_get_an_answer(visit):
    visit.sign_in("RID002", checkin=True)
    page = visit.page
    page.locator("#checkin .checkin-answer").first.wait_for()
    none = _tab_to(page, lambda f: f["text"] == "None of them", limit=40)
    assert none["outline"] != "none" and none["outlineWidth"] >= 2, "focus is visible"
    page.keyboard.press("Enter")
    assert _focused(page)["id"] == "checkin-why"
    _tab_to(page, lambda f: f["text"] == "Something else")
    page.keyboard.press("Enter")
    assert _focused(page)["id"] == "checkin-note"
    page.keyboard.type("The pharmacy was closed on Sunday")
    _tab_to(page, lambda f: f["text"] == "Save")
    page.keyboard.press("Enter")
    visit.turn_ends()
    assert page.locator(".msg-paco").last.locator(".msg-text").inner_text() == default_guidance()["other"].answer
    assert _focused(page)["id"] == "checkin-done"
    page.keyboard.press("Escape")  # closes the card, back to the question box
    assert page.locator("#checkin").is_hidden() and _focused(page)["id"] == "composer-input"
    with visit.app.app_context():
        checkin = db.session.query(Checkin).filter_by(research_id="RID002").one()
        assert (checkin.taken, checkin.reason, checkin.note) == ("none", "other", "The pharmacy was closed on Sunday")
        assert checkin.reply_message_id is not None
        db.session.remove()


def test_not_now_puts_the_card_off_for_the_day_and_the_menu_brings_it_back(visit):
    visit.sign_in("RID003", checkin=True)
    page = visit.page
    card = page.locator("#checkin")
    card.get_by_role("button", name="Not now").click()
    assert card.is_hidden()
    page.reload()
    visit.wait_screen("chat")
    visit.wait_connected()
    page.wait_for_timeout(300)
    assert card.is_hidden(), "put off for today"
    page.get_by_role("button", name="Menu").click()
    page.get_by_role("button", name="My last 14 days").click()
    card.get_by_text("You have not answered today yet.").wait_for()
    assert card.locator(".strip li").count() == 14
    card.get_by_role("button", name="Answer now").click()
    card.get_by_role("button", name="Some of them").click()
    card.get_by_role("button", name="Skip this question").click()  # no reason: nothing for PaCo to answer
    card.get_by_text("Thank you. Today: Some of them.").wait_for()
    assert not [f for f in visit.sent if f.get("type") == "checkin"]
    with visit.app.app_context():
        checkin = db.session.query(Checkin).filter_by(research_id="RID003").one()
        assert (checkin.taken, checkin.reason) == ("some", None)
        db.session.remove()


# Every play of the page's <audio> element from the very start, with the answer it belonged to.
EARLY_MEDIA = """
window.__plays = [];
document.addEventListener('play', (event) => {
  if (event.target.id === 'voice') window.__plays.push(event.target.dataset.key || '');
}, true);
"""


def test_the_card_is_read_aloud_when_the_voice_is_on_and_not_when_it_is_off(visit):
    visit.context.add_init_script(EARLY_MEDIA)
    visit.sign_in("RID004", checkin=True)
    page = visit.page
    page.locator("#checkin .checkin-answer").first.wait_for()
    hint = page.get_by_role("button", name="Tap to turn on PaCo's voice")
    # Where the browser lets a page start sound by itself it is heard at once; otherwise the
    # first tap (here on the hint) starts it.
    visit.until(lambda: "prompt-checkin" in page.evaluate("() => window.__plays") or hint.is_visible(), 15,
                "the question to be heard, or the voice hint")
    if hint.is_visible():
        hint.click()
        visit.until(lambda: "prompt-checkin" in page.evaluate("() => window.__plays"), 10, "the question")
    assert any(u.endswith("/api/v1/audio/speech") for u in visit.requested)
    # Voice off: the next visit reads nothing aloud, and asks for no audio.
    page.get_by_role("button", name="Voice on").click()
    page.reload()
    visit.wait_screen("chat")
    before = sum(u.endswith("/api/v1/audio/speech") for u in visit.requested)
    page.locator("#checkin .checkin-answer").first.wait_for()
    page.wait_for_timeout(500)
    assert sum(u.endswith("/api/v1/audio/speech") for u in visit.requested) == before
    assert page.evaluate("() => window.__plays") == []


def test_any_answer_from_history_can_be_played_again(visit):
    visit.sign_in("RID005", checkin=True)
    page = visit.page
    page.locator("#checkin").get_by_role("button", name="Not now").click()
    visit.ask("Why do I take aspirin?")
    visit.turn_ends()
    with visit.app.app_context():  # an answer written while the voice was off: never spoken
        conversation = db.session.query(Conversation).filter_by(research_id="RID005").one()
        db.session.add(Message(conversation_id=conversation.conversation_id, role="assistant", status="complete",
                               content="Walking helps your legs. Start slowly.", provider="curated"))
        db.session.commit()
        db.session.remove()
    page.evaluate("() => sessionStorage.removeItem('paco.voice')")  # a new tab: no audio addresses kept
    page.reload()
    visit.wait_screen("chat")
    page.locator(".msg-paco").nth(1).wait_for()
    page.evaluate(MEDIA_RECORDER)
    assert page.locator("#checkin").is_hidden()
    listen = page.get_by_role("button", name="Listen to this answer")
    assert listen.count() == 2, "every stored answer has a play button"
    listen.last.click()
    visit.until(lambda: any(e["type"] == "playing" for e in visit.media()), 15, "the synthesised answer to play")
    assert "/api/v1/audio/" in visit.media()[0]["src"]
    listen.first.click()
    visit.until(lambda: len({e["key"] for e in visit.media()}) == 2, 15, "the cached answer to play")


def test_a_paused_participant_is_told_so_and_whom_to_contact(visit, browser, web_server, site):
    visit.sign_in("RID006", checkin=True)
    page = visit.page
    with visit.app.app_context():
        db.session.query(ResearchID).filter_by(research_id="RID006").update({"status": "paused"})
        db.session.commit()
        db.session.remove()
    paused = f"Your study team has paused your access to PaCo for now. {DEMO_CONTACT}"
    page.reload()
    visit.wait_screen("research-id")
    assert page.inner_text("#rid-notice") == paused
    _axe(visit, "the paused notice")
    page.fill("#rid-input", "RID006")
    page.press("#rid-input", "Enter")
    page.locator("#rid-error").filter(has_text="paused").wait_for()
    assert page.inner_text("#rid-error") == paused
    # A stranger typing the same ID on another device learns nothing.
    context = browser.new_context(viewport=PHONE)
    try:
        other = context.new_page()
        other.goto(web_server.url + "/")
        other.wait_for_selector("body[data-screen='research-id']")
        other.fill("#rid-input", "RID006")
        other.press("#rid-input", "Enter")
        other.locator("#rid-error").filter(has_text="We could not").wait_for()
        assert "paused" not in other.inner_text("#rid-error")
    finally:
        context.close()


def test_a_message_over_the_limit_is_never_cut_without_saying_so(visit):
    visit.sign_in("RID007", checkin=True)
    page = visit.page
    box = page.locator("#composer-input")
    box.fill("a" * 1850)
    assert page.inner_text("#composer-count") == "150 characters left"
    box.fill("b" * 2500)  # pasted: nothing is dropped
    assert len(box.input_value()) == 2500
    assert page.inner_text("#composer-count") == "500 characters too many: please shorten your message."
    assert box.get_attribute("aria-invalid") == "true"
    box.press("Enter")
    assert "PaCo can read up to 2000" in page.inner_text("#composer-note")
    assert len(box.input_value()) == 2500 and not [f for f in visit.sent if f.get("type") == "message"]
    box.fill("c" * 2000)
    box.press("Enter")
    visit.turn_ends()
    assert [len(f["message"]) for f in visit.sent if f.get("type") == "message"] == [2000]


def test_a_wide_screen_uses_the_width_and_a_phone_keeps_the_phone_layout(visit):
    visit.sign_in("RID008", checkin=True)
    page = visit.page
    page.locator("#checkin").get_by_role("button", name="Not now").click()
    visit.ask("What is P.A.D.?")
    visit.turn_ends()

    def layout():
        return page.evaluate("""() => {
          const box = (s) => document.querySelector(s).getBoundingClientRect();
          const text = document.querySelector('.msg-paco .msg-text');
          const size = parseFloat(getComputedStyle(text).fontSize);
          return {frame: box('.frame').width, composer: box('#composer').width, composerLeft: box('#composer').left,
                  bubble: box('.msg-paco').width, size, root: parseFloat(getComputedStyle(document.documentElement).fontSize),
                  charsPerLine: text.getBoundingClientRect().width / (size * 0.5)};
        }""")

    phone = layout()
    assert phone["frame"] == PHONE["width"] and phone["root"] == 20
    page.set_viewport_size(DESKTOP)
    wide = layout()
    assert wide["frame"] == DESKTOP["width"], "not a phone-sized column any more"
    assert wide["root"] >= 22 and wide["size"] >= 22, "larger type"
    assert 700 <= wide["composer"] <= 1050 and abs(wide["composerLeft"] * 2 + wide["composer"] - DESKTOP["width"]) < 40
    assert wide["charsPerLine"] <= 85, f"readable line length: {wide}"
    _axe(visit, "the wide chat")
