"""Accessibility: axe-core on every screen, keyboard-only use, sizes, motion; screenshots of each screen."""
from __future__ import annotations

from .visit import DESKTOP


def _check(visit, screenshots, name):
    problems = visit.axe_problems()
    assert not problems, f"axe-core on {name}: {problems}"
    visit.shoot(screenshots, name)


def test_every_screen_passes_axe_at_phone_and_desktop_size(visit, screenshots):
    page = visit.open("research-id")
    _check(visit, screenshots, "1-research-id")
    page.fill("#rid-input", "RID999")
    page.press("#rid-input", "Enter")
    page.locator("#rid-error").filter(has_text="We could not").wait_for()
    _check(visit, screenshots, "2-research-id-error")
    page.fill("#rid-input", "RID001")
    page.press("#rid-input", "Enter")
    visit.wait_screen("disclaimer")
    page.wait_for_selector("#disclaimer-version:text('Version 1')")
    _check(visit, screenshots, "3-disclaimer")
    page.get_by_role("button", name="I agree").click()
    visit.wait_screen("chat")
    page.locator("#welcome").wait_for()
    _check(visit, screenshots, "4-chat-start")
    visit.ask("What is P.A.D.?")
    visit.turn_ends()
    _check(visit, screenshots, "5-chat-answer")
    visit.ask("I have crushing chest pain right now")
    visit.turn_ends(2)
    _check(visit, screenshots, "6-chat-emergency")
    page.set_viewport_size(DESKTOP)
    problems = visit.axe_problems()
    assert not problems, f"axe-core on the desktop chat: {problems}"


def _focused(page) -> dict:
    return page.evaluate("""() => {
      const e = document.activeElement;
      const style = getComputedStyle(e);
      return {id: e.id, text: (e.innerText || e.getAttribute('aria-label') || '').trim(),
              outline: style.outlineStyle, outlineWidth: parseFloat(style.outlineWidth)};
    }""")


def _tab_to(page, matches, limit: int = 25) -> dict:
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = _focused(page)
        if matches(focused):
            return focused
    raise AssertionError("Tab never reached the expected control")


def test_keyboard_only_walk_through(visit):
    page = visit.open("research-id")
    page.keyboard.type("RID002")
    page.keyboard.press("Enter")
    visit.wait_screen("disclaimer")
    page.wait_for_selector("#disclaimer-version:text('Version 1')")
    agree = _tab_to(page, lambda f: f["id"] == "disclaimer-accept")
    assert agree["outline"] != "none" and agree["outlineWidth"] >= 2, "focus is visible"
    page.keyboard.press("Enter")
    visit.wait_screen("chat")
    assert _focused(page)["id"] == "composer-input"
    page.keyboard.type("Why do I take aspirin?")
    page.keyboard.press("Enter")
    visit.turn_ends()
    listen = _tab_to(page, lambda f: f["text"] in ("Listen", "Pause"))
    assert listen["outline"] != "none"
    menu = _tab_to(page, lambda f: f["id"] == "menu-button")
    assert menu["outline"] != "none"
    page.keyboard.press("Enter")
    assert _focused(page)["id"] == "new-conversation"
    page.keyboard.press("Escape")
    assert _focused(page)["id"] == "menu-button" and page.locator("#menu").is_hidden()
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")  # New conversation
    assert page.locator("#messages .msg").count() == 0
    starter = _tab_to(page, lambda f: f["text"] == "What is P.A.D.?")
    assert starter["outline"] != "none"
    page.keyboard.press("Enter")
    visit.turn_ends(2)
    assert "peripheral artery disease" in page.locator(".msg-paco").inner_text()


def test_text_is_large_and_targets_are_big_enough(visit):
    page = visit.open("research-id")
    assert page.evaluate("() => parseFloat(getComputedStyle(document.body).fontSize)") >= 18
    visit.sign_in("RID003")
    visit.ask("What is P.A.D.?")
    visit.turn_ends()
    small = page.evaluate("""() => [...document.querySelectorAll('button, a, input, textarea')]
      .filter(e => e.offsetParent !== null)
      .map(e => ({name: e.id || e.innerText.trim(), box: e.getBoundingClientRect()}))
      .filter(({box}) => box.width < 44 || box.height < 44)
      .map(({name, box}) => `${name}: ${Math.round(box.width)}x${Math.round(box.height)}`)""")
    assert not small, f"tap targets under 44 px: {small}"
    text = page.evaluate("() => parseFloat(getComputedStyle(document.querySelector('.msg-paco .msg-text')).fontSize)")
    assert text >= 18


def test_reduced_motion_stops_the_animations(visit):
    page = visit.page
    page.emulate_media(reduced_motion="reduce")
    visit.sign_in("RID004")
    page.evaluate("""() => {
      window.__animations = [];
      new MutationObserver(() => {
        for (const n of document.querySelectorAll('#thinking .dots span, .streaming .msg-text'))
          window.__animations.push(getComputedStyle(n).animationName + '|' + getComputedStyle(n, '::after').animationName);
      }).observe(document.getElementById('messages'), {subtree: true, childList: true, characterData: true});
    }""")
    visit.ask("What is P.A.D.?")
    visit.turn_ends()
    seen = set(page.evaluate("() => window.__animations"))
    assert seen and seen == {"none|none"}
