"""The second safety layer over a live socket: the LLM's classification runs beside the answer; a
flag replaces the answer before any of its text is shown or spoken; a failed or late classifier
costs the answer nothing."""
from __future__ import annotations

import pytest

from paco.assistant.safety import category_replies
from paco.extensions import db
from paco.models import Message
from tests.support.chat import ChatClient, sign_in, types

from .conftest import start_server

ORIGINAL = "The sea is calm today. Boats are out. Enjoy the view."
MISSED_BY_RULES = "i keep thinking about the quiet of the deep water"


@pytest.fixture(scope="module")
def opinion_server(database_url, standins, tmp_path_factory):
    server = start_server(database_url, standins, tmp_path_factory.mktemp("second-opinion"),
                          PACO_SAFETY_SECOND_OPINION="auto", PACO_SAFETY_SECOND_OPINION_TIMEOUT="1")
    yield server
    server.stop()


def _ask(chat, server, message, research_id="RID001"):
    client = ChatClient(server, sign_in(server, research_id), research_id)
    try:
        client.ask(message, conversation_id=f"c-{research_id}")
        return client.turn()
    finally:
        client.close()


def _rows(chat, conversation_id):
    with chat.app.app_context():
        rows = db.session.execute(db.select(Message).where(Message.conversation_id == conversation_id)
                                  .order_by(Message.id)).scalars().all()
        db.session.remove()
    return rows


def test_a_message_the_rules_miss_is_caught_before_any_of_the_answer_is_shown(chat, opinion_server):
    chat.openai.configure(reply=ORIGINAL, first_token_ms=300, tokens_per_s=40,
                          classification='{"category": "crisis"}', classify_ms=100)
    frames = _ask(chat, opinion_server, MISSED_BY_RULES)
    shown = "".join(f["content"] for f in frames if f["type"] == "chunk")
    spoken = " ".join(f["text"] for f in frames if f["type"] == "audio")
    complete = next(f for f in frames if f["type"] == "complete")
    assert "sea" not in shown.lower() and "sea" not in spoken.lower()
    assert shown == complete["full_response"] == category_replies()["crisis"]
    assert complete["safety"] == {"category": "crisis", "rule": "classifier.crisis", "layer": "classifier"}
    question, reply = _rows(chat, "c-RID001")
    assert (question.safety_category, question.safety_layer) == ("crisis", "classifier")
    assert (reply.provider, reply.model, reply.safety_layer) == ("safety", "classifier.crisis", "classifier")


def test_an_ordinary_message_gets_its_answer(chat, opinion_server):
    chat.openai.configure(reply=ORIGINAL, classification='{"category": "none"}')
    frames = _ask(chat, opinion_server, "what is the sea like", "RID002")
    complete = next(f for f in frames if f["type"] == "complete")
    assert complete["full_response"] == ORIGINAL and "safety" not in complete
    assert types(frames)[0] == "saved" and "chunk" in types(frames)


@pytest.mark.parametrize("behaviour", [{"classify_fault": "http_500"}, {"classify_ms": 3000,
                                                                          "classification": '{"category": "crisis"}'}])
def test_a_failed_or_late_classifier_costs_the_answer_nothing(chat, opinion_server, behaviour):
    chat.openai.configure(reply=ORIGINAL, **behaviour)
    frames = _ask(chat, opinion_server, "tell me about the sea", "RID003")
    complete = next(f for f in frames if f["type"] == "complete")
    assert complete["full_response"] == ORIGINAL and complete["status"] == "complete"
    question, reply = _rows(chat, "c-RID003")
    assert question.safety_layer is None and reply.provider == "openai"


def test_the_rules_still_answer_first_and_say_so(chat, opinion_server):
    chat.openai.configure(reply=ORIGINAL, classification='{"category": "none"}')
    frames = _ask(chat, opinion_server, "i have crushing chest pain right now", "RID004")
    complete = next(f for f in frames if f["type"] == "complete")
    assert complete["safety"]["layer"] == "rules" and complete["safety"]["category"] == "emergency"


def test_a_classifier_error_is_logged_once_without_a_traceback(capfd, caplog):
    """A classifier failing is expected: one warning line, not gevent's dump of the greenlet."""
    import logging
    from types import SimpleNamespace

    from paco.assistant.second_opinion import SecondOpinion

    class Refusing:
        def create(self, **_):
            raise ConnectionError("the provider is down")

    client = SimpleNamespace(chat=SimpleNamespace(completions=SimpleNamespace(with_streaming_response=Refusing())))
    with caplog.at_level(logging.WARNING):
        opinion = SecondOpinion(SimpleNamespace(name="openai", client=client), "m", "hello", timeout=1)
        assert opinion.verdict(wait=1) is None
    assert "second_opinion_failed" in caplog.text and "ConnectionError" in caplog.text
    assert "Traceback" not in capfd.readouterr().err


def _opinion(category: str, after: float):
    """A SecondOpinion whose classifier answers ``category`` after ``after`` seconds."""
    import contextlib
    import json
    from types import SimpleNamespace

    import gevent

    from paco.assistant.second_opinion import SecondOpinion

    class Answering:
        @contextlib.contextmanager
        def create(self, **_):
            gevent.sleep(after)
            content = json.dumps({"category": category})
            yield SimpleNamespace(read=lambda: json.dumps({"choices": [{"message": {"content": content}}]}))

    client = SimpleNamespace(chat=SimpleNamespace(completions=SimpleNamespace(with_streaming_response=Answering())))
    return SecondOpinion(SimpleNamespace(name="openai", client=client), "m", "hello", timeout=2)


def _slow_answer(gap: float, closed: list):
    """An answer's stream: its first words at once, the rest after ``gap`` seconds."""
    import gevent

    try:
        yield "The sea "
        gevent.sleep(gap)
        yield "is calm. "
        yield "Boats are out."
    finally:
        closed.append(True)


def test_what_was_held_goes_as_soon_as_the_classification_arrives():
    """Not when the answer's next words do: a slow stream added its whole gap to what was held."""
    import time

    from paco.assistant.second_opinion import gate

    closed: list = []
    start = time.monotonic()
    deltas = gate(_slow_answer(1.0, closed), _opinion("none", 0.05), wait=2, on_flag=None)
    assert next(deltas) == "The sea "
    assert time.monotonic() - start < 0.5
    assert list(deltas) == ["is calm. ", "Boats are out."]
    assert closed == [True]


def test_a_flag_closes_the_stream_being_read_while_the_classification_was_awaited():
    import time

    from paco.assistant.second_opinion import gate

    closed, flags = [], []
    start = time.monotonic()
    deltas = gate(_slow_answer(1.0, closed), _opinion("crisis", 0.05), wait=2, on_flag=flags.append)
    shown = "".join(deltas)
    assert time.monotonic() - start < 0.5
    assert shown == category_replies()["crisis"] and "sea" not in shown
    assert [f.layer for f in flags] == ["classifier"] and closed == [True]
