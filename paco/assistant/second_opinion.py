"""A second, independent safety layer: the configured LLM classifies the message beside the answer.

The rules (``safety.py``) run before anything and carry the whole load offline. When an LLM
provider answers, a short classification request to it starts with the turn, beside the answer's
own request, so ordinary turns wait for nothing extra: the answer's text is held until the
classification has arrived, which is normally about when the answer's first words do, and at the
latest until its first sentence is complete (``gate``). If
it flags the message, the held text is dropped, the answer's stream is closed, and the category's
reviewed reply is sent instead: nothing of the original answer was shown or spoken. If the
classifier fails or is late (``PACO_SAFETY_SECOND_OPINION_TIMEOUT``), the answer goes on.
"""
from __future__ import annotations

import json
import logging
import re
from typing import Iterator

import gevent

from ..speech.sentences import SentenceSplitter
from .providers.curated import split_deltas
from .safety import CATEGORIES, SafetyFlag, category_replies

log = logging.getLogger("paco.assistant.second_opinion")

CLASSIFIER_PROMPT = """\
You are the safety classifier of PaCo, an education assistant for people with peripheral artery
disease (P.A.D.) in a research study. Read the participant's message and decide whether it needs
a fixed safety reply instead of education. Categories:
- emergency: signs of a heart attack, stroke, a limb losing its blood supply, heavy bleeding,
  trouble breathing, fainting, a severe allergic reaction, happening now (to them or someone near)
- crisis: thoughts, plans or preparations of suicide or self-harm, however indirectly said
- urgent: needs their care team today (a wound going bad, rest pain, a medicine side effect that
  needs a call, a double dose, problems after a procedure)
- medication_change: they stopped, skipped, or changed a medicine, or plan to, on their own
- none: anything else, including general questions about these signs and past events
Answer with JSON only: {"category": "<emergency|crisis|urgent|medication_change|none>"}"""

_JSON_OBJECT = re.compile(r"\{.*?\}", re.S)


class SecondOpinion:
    """One classification request, started at once in its own greenlet."""

    def __init__(self, provider, model: str, message: str, timeout: float):
        self.provider_name = provider.name
        self._greenlet = gevent.spawn(self._ask, provider.client, model, message, timeout)

    @classmethod
    def _ask(cls, client, model: str, message: str, timeout: float) -> str | None | Exception:
        """The category, or the error: returned, not raised, since gevent prints a greenlet's
        uncaught exception whole to stderr, and a classifier timing out is expected."""
        try:
            return cls._classify(client, model, message, timeout)
        except Exception as err:  # noqa: BLE001 - reported by verdict()
            return err

    @staticmethod
    def _classify(client, model: str, message: str, timeout: float) -> str | None:
        # As the answer's own request (providers/openai_compat.py), the messages go in
        # extra_body and the reply is read as plain JSON: the SDK's walk of `messages` against its
        # typed schema and its building of typed models from the reply cost ~0.5 ms of CPU per
        # turn, which a burst of turn starts queues behind on one core.
        with client.chat.completions.with_streaming_response.create(
                model=model, temperature=0, max_tokens=20, timeout=timeout, messages=[],
                extra_body={"messages": [{"role": "system", "content": CLASSIFIER_PROMPT},
                                         {"role": "user", "content": message}]}) as response:
            reply = json.loads(response.read())
        return category_of(reply["choices"][0]["message"].get("content") or "")

    def ready(self) -> bool:
        return self._greenlet.ready()

    def wait_with(self, other: gevent.Greenlet) -> None:
        """Until the classification has arrived or ``other`` has finished, whichever is first."""
        gevent.wait([self._greenlet, other], count=1)

    def verdict(self, wait: float) -> SafetyFlag | None:
        """The classifier's flag, or None when it says none, failed, or is later than ``wait`` s."""
        try:
            category = self._greenlet.get(timeout=wait)
        except gevent.Timeout:
            self._greenlet.kill(block=False)
            log.warning({"event": "second_opinion_late", "provider": self.provider_name, "waited_s": wait})
            return None
        if isinstance(category, Exception):  # the answer must never depend on the classifier being up
            log.warning({"event": "second_opinion_failed", "provider": self.provider_name,
                         "error": type(category).__name__})
            return None
        if category not in CATEGORIES:
            return None
        return SafetyFlag(category=category, rule_id=f"classifier.{category}",
                          reply=category_replies()[category], layer="classifier")


def category_of(text: str) -> str | None:
    """The category in the classifier's answer (a JSON object, perhaps wrapped in prose)."""
    match = _JSON_OBJECT.search(text)
    try:
        value = json.loads(match.group(0)).get("category") if match else None
    except (ValueError, AttributeError):
        value = None
    return value.strip().lower() if isinstance(value, str) else None


def gate(deltas: Iterator[str], opinion: SecondOpinion, wait: float, on_flag) -> Iterator[str]:
    """The answer's deltas, held until the classifier has answered; at the latest, at the end of
    the first sentence, where it waits up to ``wait`` seconds for it.

    What was held is let go as soon as the classification arrives, not when the next delta does
    (up to a token's interval later, added to every held delta): while it holds, the next delta is
    read in a greenlet of its own, and the gate waits for that or the classifier, whichever is first.

    ``on_flag(flag)`` is called when the classifier flags the message; the safety reply's deltas
    are yielded instead of the answer's, whose stream is closed unread.
    """
    held: list[str] = []
    splitter = SentenceSplitter()
    reading: gevent.Greenlet | None = None  # the next delta, being read while the classifier is awaited
    try:
        while not opinion.ready():
            reading = gevent.spawn(_read_next, deltas)
            opinion.wait_with(reading)
            if not reading.ready():
                break  # the classification came first; the delta being read follows what was held
            delta = _result(reading)
            reading = None
            if delta is _END:
                break
            held.append(delta)
            if splitter.feed(delta):
                break
        flag = opinion.verdict(wait)
        if flag is not None:
            if reading is not None:
                reading.kill()
                reading = None
            if hasattr(deltas, "close"):
                deltas.close()
            on_flag(flag)
            yield from split_deltas(flag.reply)
            return
        yield from held
        if reading is not None:
            delta = _result(reading)
            reading = None
            if delta is _END:
                return
            yield delta
        yield from deltas
    finally:
        if reading is not None:  # stopped while a delta was being read: end that read
            reading.kill()
        if hasattr(deltas, "close"):
            deltas.close()


_END = object()


def _read_next(deltas: Iterator[str]):
    """The next delta, ``_END``, or the error that reading it raised: returned, not raised, since
    gevent prints a greenlet's uncaught exception whole to stderr (``_result`` raises it)."""
    try:
        return next(deltas, _END)
    except Exception as err:  # noqa: BLE001 - raised again by _result in the turn's greenlet
        return _Failed(err)


class _Failed:
    def __init__(self, error: Exception):
        self.error = error


def _result(reading: gevent.Greenlet):
    value = reading.get()
    if isinstance(value, _Failed):
        raise value.error
    return value
