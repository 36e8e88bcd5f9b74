"""LLM providers through the real OpenAI SDK against the stand-in; the chain; the context window."""
from __future__ import annotations

import time

import gevent
import pytest

from paco.assistant.chain import provider_chain
from paco.assistant.context import bounded_history, build_messages
from paco.assistant.prompts import available_versions, load_prompt
from paco.assistant.providers import ProviderError, build_provider
from paco.assistant.providers.openai_compat import OpenAICompatibleProvider
from paco.assistant.reply import NoProviderAnswered, open_reply
from tests.standins.base import StandInProcess, free_port
from tests.standins.openai_server import DEFAULT_REPLY, tokenize

CONFIG = {
    "PACO_LLM_PROVIDER": "openai", "PACO_LLM_FALLBACK": [], "PACO_LLM_MODEL": None, "PACO_LLM_MODELS": [],
    "OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": None, "GROQ_API_KEY": None,
    "GROQ_BASE_URL": "https://api.groq.com/openai/v1", "PACO_LLM_CONNECT_TIMEOUT": 2.0,
    "PACO_LLM_FIRST_TOKEN_TIMEOUT": 5.0, "PACO_LLM_IDLE_TIMEOUT": 5.0, "PACO_LLM_MAX_TOKENS": 300,
    "PACO_CURATED_DELAY_MS": 0,
}
MESSAGES = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "What is P.A.D.?"}]


@pytest.fixture(scope="module")
def openai_standin():
    with StandInProcess("tests.standins.openai_server") as standin:
        yield standin


def _provider(url, **kwargs):
    options = dict(name="openai", api_key="sk-test", base_url=url + "/v1", default_model="gpt-4o-mini",
                   models=["gpt-4o"], connect_timeout=2, read_timeout=5, max_tokens=300)
    options.update(kwargs)
    return OpenAICompatibleProvider(**options)


def test_streams_deltas_and_token_usage_through_the_sdk(openai_standin):
    openai_standin.reset()
    usage = {}
    deltas = list(_provider(openai_standin.url).stream(MESSAGES, "gpt-4o", usage))
    assert "".join(deltas) == DEFAULT_REPLY
    assert usage["completion_tokens"] == len(tokenize(DEFAULT_REPLY))
    (request,) = openai_standin.requests()
    assert request["headers"]["authorization"] == "Bearer sk-test"
    assert request["json"]["messages"] == MESSAGES and request["json"]["max_tokens"] == 300


@pytest.mark.parametrize("fault, reason", [("http_500", "http 500"), ("http_401", "http 401"),
                                           ("http_429", "http 429")])
def test_http_errors_are_provider_errors_without_sdk_retries(openai_standin, fault, reason):
    openai_standin.reset()
    openai_standin.configure(fault=fault)
    with pytest.raises(ProviderError, match=reason):
        list(_provider(openai_standin.url).stream(MESSAGES, "gpt-4o"))
    assert len(openai_standin.requests()) == 1, "the SDK must not retry behind the fallback chain"


def test_broken_stream_is_a_provider_error_after_partial_text(openai_standin):
    openai_standin.reset()
    openai_standin.configure(fault="drop_after", fault_after=4)
    received = []
    with pytest.raises(ProviderError, match="stream"):
        for delta in _provider(openai_standin.url).stream(MESSAGES, "gpt-4o"):
            received.append(delta)
    # Tokens that arrive in one network read come up as one delta; the text is what counts.
    assert "".join(received) == "".join(tokenize(DEFAULT_REPLY)[:4])


def test_malformed_event_is_a_provider_error(openai_standin):
    openai_standin.reset()
    openai_standin.configure(fault="bad_json", fault_after=2)
    with pytest.raises(ProviderError, match="malformed JSON"):
        list(_provider(openai_standin.url).stream(MESSAGES, "gpt-4o"))


def test_sse_decoder_handles_any_split_and_merges_one_read():
    from paco.assistant.providers.openai_compat import SSEDeltas

    events = b"".join(
        b'data: {"choices":[{"delta":{"content":"%s"}}]}\r\n\r\n' % word for word in (b"Hello", b" there", b".")
    ) + b'data: {"choices":[],"usage":{"completion_tokens":3}}\n\n: keep-alive comment\n\ndata: [DONE]\n\n'
    for size in (1, 2, 7, 50, len(events)):
        usage = {}
        decoder = SSEDeltas("t", usage)
        deltas = [d for i in range(0, len(events), size) if (d := decoder.feed(events[i:i + size]))]
        assert "".join(deltas) == "Hello there." and decoder.done and usage == {"completion_tokens": 3}
        if size == len(events):
            assert deltas == ["Hello there."], "events of one read become one delta"


RECORDED = (  # a chat-completions stream as OpenAI sends it, usage chunk and [DONE] included
    b'data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant"}}]}',
    b'data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Walk"}}]}',
    b'data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":" every day."}}]}',
    b": keep-alive",
    b'data: {"id":"c1","object":"chat.completion.chunk","choices":[],"usage":{"completion_tokens":4}}',
    b"data: [DONE]",
)


@pytest.mark.parametrize("newline", [b"\r\n", b"\n", b"\r"])
def test_sse_decoder_survives_a_split_at_every_byte(newline):
    """Found in review: a CRLF split across two reads lost [DONE], and a complete answer was
    stored as interrupted."""
    from paco.assistant.providers.openai_compat import SSEDeltas

    stream = b"".join(event + newline + newline for event in RECORDED)
    for cut in range(len(stream) + 1):
        usage = {}
        decoder = SSEDeltas("t", usage)
        text = decoder.feed(stream[:cut]) + decoder.feed(stream[cut:]) + decoder.finish()
        assert (text, decoder.done, usage) == ("Walk every day.", True, {"completion_tokens": 4}), cut
    usage = {}
    decoder = SSEDeltas("t", usage)
    text = "".join(decoder.feed(stream[i:i + 1]) for i in range(len(stream))) + decoder.finish()
    assert text == "Walk every day."
    assert decoder.done


def test_sse_decoder_joins_an_events_data_lines():
    from paco.assistant.providers.openai_compat import SSEDeltas

    decoder = SSEDeltas("t", None)
    text = decoder.feed(b'data: {"choices":[{"delta":\ndata: {"content":"Hi"}}]}\n\ndata: [DONE]\n\n')
    assert (text, decoder.done) == ("Hi", True)


def test_unreachable_server_is_a_connection_error():
    provider = _provider(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(ProviderError, match="connection failed"):
        list(provider.stream(MESSAGES, "gpt-4o"))


def test_fallback_chain_answers_offline_when_the_primary_fails(openai_standin):
    openai_standin.reset()
    openai_standin.configure(fault="http_500")
    config = {**CONFIG, "OPENAI_BASE_URL": openai_standin.url + "/v1", "PACO_LLM_FALLBACK": ["curated"]}
    reply = open_reply(provider_chain(config), MESSAGES, 5, 5)
    text = "".join(reply.deltas)
    assert reply.provider.name == "curated" and "P.A.D." in text
    assert reply.errors == ["openai: http 500"]


def test_no_provider_answering_raises_with_every_error(openai_standin):
    openai_standin.reset()
    openai_standin.configure(fault="http_500")
    config = {**CONFIG, "OPENAI_BASE_URL": openai_standin.url + "/v1", "PACO_LLM_FALLBACK": ["openai"]}
    with pytest.raises(NoProviderAnswered) as err:
        open_reply(provider_chain(config), MESSAGES, 5, 5)
    assert err.value.errors == ["openai: http 500"]


def test_chain_model_choice():
    config = {**CONFIG, "PACO_LLM_FALLBACK": ["curated"]}
    chain = provider_chain(config)
    assert [(p.name, m) for p, m in chain][0] == ("openai", "gpt-4o-mini")
    assert chain[1][0].name == "curated"
    assert provider_chain(config, requested_model="gpt-4o")[0][1] == "gpt-4o"
    assert provider_chain(config, requested_model="not-allowed")[0][1] == "gpt-4o-mini"
    # A study arm's model is part of the protocol: a client cannot override it.
    assert provider_chain(config, cohort_model="gpt-4.1", requested_model="gpt-4o")[0][1] == "gpt-4.1"
    # A cohort naming a provider with no key is skipped for the fallback, never a crash.
    assert [p.name for p, _ in provider_chain(config, cohort_provider="groq")] == ["curated"]


def test_groq_is_selectable_by_name():
    config = {**CONFIG, "PACO_LLM_PROVIDER": "groq", "GROQ_API_KEY": "gsk-test"}
    provider = build_provider("groq", config)
    assert provider.name == "groq" and str(provider.client.base_url).startswith("https://api.groq.com/openai/v1")
    assert provider.default_model == "llama-3.3-70b-versatile"
    with pytest.raises(ValueError, match="GROQ_API_KEY"):
        build_provider("groq", {**config, "GROQ_API_KEY": None})
    with pytest.raises(ValueError, match="unknown LLM provider"):
        build_provider("gemini", config)


def test_history_is_bounded_by_turns_and_characters():
    turns = [("user", f"q{i}") if i % 2 == 0 else ("assistant", f"a{i}") for i in range(20)]
    assert bounded_history(turns, 2, 10_000) == turns[-4:]
    assert bounded_history(turns, 0, 10_000) == []
    long = [("user", "x" * 50), ("assistant", "y" * 50), ("user", "z" * 50), ("assistant", "w" * 50)]
    assert bounded_history(long, 10, 120) == long[2:]
    # Never starts with an orphaned answer.
    assert bounded_history(long, 10, 160) == long[2:]


def test_prompt_versions_and_grounding():
    assert "v1" in available_versions()
    prompt = load_prompt()
    with pytest.raises(ValueError, match="unknown prompt version"):
        load_prompt("v999")
    from paco.assistant.knowledge_base import default_knowledge_base

    entry = default_knowledge_base().search("what is clopidogrel for").entry
    messages = build_messages(prompt, [("user", "hi"), ("assistant", "hello")], "and plavix?", entry)
    assert messages[0]["role"] == "system" and entry.answer in messages[0]["content"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]



class PacedProvider:
    """A provider whose tokens arrive after the given pauses (gevent-cooperative, so the idle
    timer runs without monkey-patching the test process)."""

    name = "paced"

    def __init__(self, pauses):
        self.pauses = pauses

    def stream(self, messages, model, usage=None):
        for n, pause in enumerate(self.pauses):
            gevent.sleep(pause)
            yield f"t{n} "


def test_a_stream_that_stops_mid_reply_ends_at_the_idle_timeout():
    reply = open_reply([(PacedProvider([0, 0, 0, 30]), "m")], MESSAGES, 5, 0.3)
    received, started = [], time.monotonic()
    with pytest.raises(ProviderError, match=r"paced: no token for 0\.3s"):
        for delta in reply.deltas:
            received.append(delta)
    assert received == ["t0 ", "t1 ", "t2 "] and 0.3 <= time.monotonic() - started < 1.5


def test_the_idle_limit_counts_the_provider_silence_not_the_readers_pauses():
    # A turn can spend longer than the limit between tokens (a slow phone holding a send);
    # only a provider that stays silent for the limit is cut off.
    reply = open_reply([(PacedProvider([0, 0.2, 0.2, 0.2, 0.2]), "m")], MESSAGES, 5, 0.35)
    received = []
    for delta in reply.deltas:
        received.append(delta)
        gevent.sleep(0.5)
    assert received == ["t0 ", "t1 ", "t2 ", "t3 ", "t4 "]
