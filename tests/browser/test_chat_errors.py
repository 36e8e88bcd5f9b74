"""How the page explains answers that fail or are refused, with a scripted chat socket.

The real server is still used for signing in and history; only the chat socket is replaced
(Playwright's route_web_socket), so that each failure the protocol defines can be produced.
"""
from __future__ import annotations

import json
import time


def _script(visit, answer):
    """Serve the chat socket with `answer(frame, send)` for each message frame."""
    def handler(ws):
        def on_message(raw):
            frame = json.loads(raw)
            if frame.get("type") == "ping":
                ws.send('{"type": "pong"}')
                return
            answer(frame, lambda reply: ws.send(json.dumps(reply)))
        ws.on_message(on_message)

    visit.page.route_web_socket("**/api/v1/chat/ws/chat", handler)


def _turn(send, frame, *frames):
    cid = frame["client_id"]
    send({"type": "user_message_saved", "message_id": 1, "client_id": cid})
    for reply in frames:
        send({**reply, "client_id": cid} if reply["type"] in ("complete", "error") else reply)
    send({"type": "audio_end", "count": 0})


def test_a_cut_off_answer_keeps_its_text_with_a_note(visit):
    _script(visit, lambda frame, send: _turn(
        send, frame,
        {"type": "chunk", "content": "Aspirin helps keep "},
        {"type": "error", "code": "provider_unavailable", "message": "PaCo's answer was cut off. Please ask again.",
         "message_id": 2},
        {"type": "complete", "full_response": "Aspirin helps keep ", "message_id": 2, "status": "interrupted"}))
    visit.sign_in("RID001")
    visit.ask("Why do I take aspirin?")
    answer = visit.page.locator(".msg-paco:not(.streaming)")
    answer.locator(".msg-note").wait_for()
    assert "Aspirin helps keep" in answer.inner_text()
    assert "cut off" in answer.locator(".msg-note").inner_text()


def test_an_answer_that_failed_says_so(visit):
    _script(visit, lambda frame, send: _turn(
        send, frame,
        {"type": "error", "code": "provider_unavailable",
         "message": "PaCo cannot answer right now. Please try again in a minute.", "message_id": 2}))
    visit.sign_in("RID002")
    visit.ask("Why do I take aspirin?")
    answer = visit.page.locator(".msg-paco:not(.streaming):not(.thinking)")
    answer.wait_for()
    assert "PaCo cannot answer right now. Please try again in a minute." in answer.inner_text()
    assert visit.page.locator("#thinking").count() == 0


def test_a_refused_message_goes_back_into_the_box_with_the_reason(visit):
    _script(visit, lambda frame, send: send({
        "type": "error", "code": "rate_limited", "retry_after": 7, "client_id": frame["client_id"],
        "message": "You are sending messages very fast. Please wait 7 seconds."}))
    visit.sign_in("RID003")
    page = visit.page
    visit.ask("What is P.A.D.?")
    page.locator("#composer-note").filter(has_text="very fast").wait_for()
    assert page.input_value("#composer-input") == "What is P.A.D.?"
    assert page.locator(".msg-user").count() == 0
    assert page.locator("#composer-note").inner_text() == "You are sending messages very fast. Please wait 7 seconds."


def test_a_closed_socket_reconnects_after_a_pause(visit):
    opened = []

    def handler(ws):
        opened.append(time.monotonic())
        if len(opened) == 1:
            ws.close()  # e.g. a server restart

    visit.page.route_web_socket("**/api/v1/chat/ws/chat", handler)
    visit.sign_in("RID004")
    visit.until(lambda: len(opened) == 2, 10, "a second connection")
    assert 0.7 <= opened[1] - opened[0] <= 5, "after a backoff, not at once"
    visit.wait_connected()
    assert visit.page.locator("#connection-banner").is_hidden()
