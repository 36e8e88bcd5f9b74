"""Failures, refusals and dropped connections, with the chat socket scripted or cut in the middle.

The real server still signs in and serves history; the chat socket is replaced or relayed by
Playwright's route_web_socket, so that each failure the protocol defines can be produced on cue.
"""
from __future__ import annotations

import json
import time

from paco.extensions import db
from paco.models import Message


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


def test_a_question_lost_with_the_connection_is_sent_again(visit):
    questions, connections = [], []

    def handler(ws):
        connections.append(ws)
        connection = len(connections)

        def on_message(raw):
            frame = json.loads(raw)
            if frame.get("type") == "ping":
                ws.send('{"type": "pong"}')
                return
            questions.append((connection, frame["message"]))
            if connection == 1:
                ws.close()  # the connection dies with the question in flight, never stored
                return
            _turn(lambda reply: ws.send(json.dumps(reply)), frame,
                  {"type": "chunk", "content": "P.A.D. means narrow leg arteries."},
                  {"type": "complete", "full_response": "P.A.D. means narrow leg arteries.", "message_id": 2,
                   "status": "complete"})
        ws.on_message(on_message)

    visit.page.route_web_socket("**/api/v1/chat/ws/chat", handler)
    visit.sign_in("RID005")
    visit.ask("What is P.A.D.?")
    visit.page.locator(".msg-paco:not(.streaming):not(.thinking)").wait_for(timeout=10_000)
    assert questions == [(1, "What is P.A.D.?"), (2, "What is P.A.D.?")]
    assert visit.page.locator(".msg-user").count() == 1


def test_a_question_the_server_got_before_the_drop_is_not_sent_twice(visit):
    questions = []

    def handler(ws):
        server = ws.connect_to_server()

        def on_message(raw):
            frame = json.loads(raw)
            server.send(raw)
            if frame.get("type") == "message":
                questions.append(frame["message"])
                ws.close()  # dropped before the page hears back

        ws.on_message(on_message)

    visit.page.route_web_socket("**/api/v1/chat/ws/chat", handler)
    visit.sign_in("RID006")
    visit.ask("What if I miss a dose?")
    page = visit.page
    # The answer the server wrote for the first connection comes back through history.
    page.locator(".msg-paco:has-text('take it when you remember')").wait_for(timeout=15_000)
    assert questions == ["What if I miss a dose?"]
    assert page.locator(".msg-user").count() == 1
    with visit.app.app_context():
        assert db.session.query(Message).filter_by(role="user").count() == 1
