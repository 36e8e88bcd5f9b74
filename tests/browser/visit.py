"""One participant's visit: a browser context and page on the live server, with what it saw."""
from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path

import jwt

PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 800}
AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text()

# Records the shared <audio> element's events with the answer and sentence it was playing,
# and speeds playback up so a whole answer is heard in a few seconds.
# Capture-phase listeners on the document run before the page's own, so each event is recorded
# with the sentence that caused it, before the page moves on to the next one.
MEDIA_RECORDER = """() => {
  const audio = document.getElementById('voice');
  window.__media = [];
  audio.defaultPlaybackRate = 16;
  for (const type of ['play', 'playing', 'pause', 'ended']) {
    document.addEventListener(type, (event) => {
      if (event.target !== audio) return;
      window.__media.push({type, key: audio.dataset.key || '', seq: Number(audio.dataset.seq || 0),
                           src: audio.currentSrc});
    }, true);
  }
}"""

# Every length the streaming answer had, seen through the DOM as it changed.
STREAM_RECORDER = """() => {
  window.__lengths = [];
  window.__sawThinking = false;
  new MutationObserver(() => {
    if (document.getElementById('thinking')) window.__sawThinking = true;
    const text = document.querySelector('.msg-paco.streaming .msg-text');
    if (text) window.__lengths.push(text.textContent.length);
  }).observe(document.getElementById('messages'), {subtree: true, childList: true, characterData: true});
}"""


def expired_token(research_id: str) -> str:
    """A token as PaCo issues them, signed with the test key, that expired an hour ago."""
    now = int(time.time())
    claims = {"sub": research_id, "jti": str(uuid.uuid4()), "type": "access", "fresh": False,
              "iat": now - 7200, "nbf": now - 7200, "exp": now - 3600, "csrf": str(uuid.uuid4())}
    return jwt.encode(claims, os.environ["SECRET_KEY"], algorithm="HS256")


class Visit:
    def __init__(self, context, server, app):
        self.context = context
        self.server = server
        self.app = app
        self.requested: list[str] = []
        self.errors: list[str] = []
        self.received: list[dict] = []
        self.sent: list[dict] = []
        context.on("request", lambda request: self.requested.append(request.url))
        self.page = context.new_page()
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("websocket", self._watch_socket)

    def _watch_socket(self, ws):
        self.requested.append(ws.url)
        ws.on("framereceived", lambda payload: self.received.append(json.loads(payload)))
        ws.on("framesent", lambda payload: self.sent.append(json.loads(payload)))

    # ---- navigation ----

    def open(self, screen: str | None = None):
        self.page.goto(self.server.url + "/")
        if screen:
            self.wait_screen(screen)
        return self.page

    def wait_screen(self, screen: str, timeout: float = 10_000):
        self.page.wait_for_selector(f"body[data-screen='{screen}']", timeout=timeout)

    def sign_in(self, research_id: str = "RID001", checkin: bool = False):
        """Acknowledge and log in through the API (the cookies land in this context), then open chat.

        ``checkin``: keep the demo cohort's daily check-in card on (tests of the chat itself turn it
        off, so that the card and its voice stay out of what they measure)."""
        if not checkin:
            from paco.extensions import db
            from paco.models import Cohort

            with self.app.app_context():
                db.session.execute(db.update(Cohort).values(checkin_enabled=False))
                db.session.commit()
                db.session.remove()
        request = self.context.request
        ack = request.post(self.server.url + "/api/v1/auth/acknowledge-disclaimer", data={"research_id": research_id})
        assert ack.ok, ack.text()
        login = request.post(self.server.url + "/api/v1/auth/login", data={"research_id": research_id})
        assert login.ok, login.text()
        self.open("chat")
        self.wait_connected()

    def wait_connected(self):
        self.page.wait_for_selector("#connection-banner[data-state='open']", state="attached", timeout=10_000)

    def expire_session(self, research_id: str = "RID001"):
        self.context.add_cookies([{
            "name": "access_token_cookie", "value": expired_token(research_id), "domain": "127.0.0.1",
            "path": "/api/", "httpOnly": True, "sameSite": "Strict",
        }])

    # ---- chat ----

    def ask(self, text: str):
        box = self.page.locator("#composer-input")
        box.fill(text)
        box.press("Enter")

    def turn_ends(self, count: int = 1, timeout: float = 30):
        """Wait until `count` turns have closed on the socket (audio_end/audio_error)."""
        self.until(lambda: sum(f["type"] in ("audio_end", "audio_error") for f in self.received) >= count,
                   timeout, f"{count} finished turn(s)")

    def until(self, condition, timeout: float = 10, what: str = "a condition"):
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            self.page.wait_for_timeout(20)  # one tick: lets Playwright deliver events

    def media(self) -> list[dict]:
        return [e for e in self.page.evaluate("() => window.__media || []") if e["key"]]

    # ---- checks ----

    def axe_problems(self) -> list[dict]:
        """Serious and critical axe-core violations on the page as it is now."""
        if not self.page.evaluate("() => typeof window.axe === 'object'"):
            self.page.evaluate(AXE)
        violations = self.page.evaluate("""async () => {
          const result = await axe.run(document, {resultTypes: ['violations']});
          return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}));
        }""")
        return [v for v in violations if v["impact"] in ("serious", "critical")]

    def shoot(self, folder: Path, name: str):
        """Screenshots of the page as it is, at phone and desktop size."""
        for label, size in (("phone", PHONE), ("desktop", DESKTOP)):
            self.page.set_viewport_size(size)
            self.page.screenshot(path=str(folder / f"{name}-{label}.png"))
        self.page.set_viewport_size(PHONE)

    def storage(self) -> dict:
        return self.page.evaluate("""() => ({
          local: Object.fromEntries(Object.entries(localStorage)),
          session: Object.fromEntries(Object.entries(sessionStorage)),
        })""")
