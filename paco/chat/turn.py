"""One chat turn: store the question, stream the answer, speak it, store the answer and its metrics.

Frame order and guarantees are DESIGN.md §4. The database is touched before the first chunk
(the user's message is committed) and after the last one (the reply, then the metrics), never
in between; the session is closed while streaming so no pooled connection is held for seconds.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import gevent
from flask import Flask

from ..assistant.chain import provider_chain
from ..assistant.context import bounded_history, build_messages
from ..assistant.knowledge_base import default_knowledge_base
from ..assistant.prompts import load_prompt
from ..assistant.providers import ProviderError
from ..assistant.providers.curated import split_deltas
from ..assistant.reply import NoProviderAnswered, open_reply
from ..assistant.safety import check_message
from ..errors import ApiError
from ..extensions import db
from ..services import conversations
from ..speech.sentences import SentenceSplitter
from . import runtime
from .frames import ChatFrame, error
from .outbox import Outbox
from .speaker import Speaker

log = logging.getLogger("paco.chat.turn")


@dataclass(frozen=True)
class Arm:
    """The participant's study-arm settings, read when the message arrived."""

    llm_provider: str | None = None
    llm_model: str | None = None
    prompt_version: str | None = None
    tts_enabled: bool = True
    tts_voice: str | None = None


@dataclass(frozen=True)
class TurnRequest:
    research_id: str
    frame: ChatFrame
    arm: Arm
    received: float  # time.monotonic() when the frame arrived


def run_turn(app: Flask, outbox: Outbox, request: TurnRequest) -> None:
    with app.app_context():
        try:
            Turn(app, outbox, request).run()
        finally:
            db.session.remove()


class Turn:
    def __init__(self, app: Flask, outbox: Outbox, request: TurnRequest):
        self.app = app
        self.config = app.config
        self.outbox = outbox
        self.request = request
        self.frame = request.frame
        self.t0 = request.received
        self.first_token_at: float | None = None
        self.first_sentence_at: float | None = None
        self.errors: list[str] = []
        self.sentences = 0
        self.history: list[tuple[str, str]] = []

    def _ms(self, at: float | None) -> float | None:
        return None if at is None else round((at - self.t0) * 1000, 2)

    def run(self) -> None:
        flag = check_message(self.frame.message)
        if not self._open_conversation():
            return
        # The model is asked while the question is being stored: its first token takes
        # hundreds of ms, the commit a few, and what is guaranteed is only that the question is
        # stored before any reply text is sent.
        answer = gevent.spawn(self._source_or_failure, flag)
        gevent.sleep(0)  # let the request leave before the commit (SQLite's never yields)
        user_message_id = self._store_question(flag)
        if user_message_id is None:
            self._abandon(answer)
            return
        self.outbox.send({"type": "user_message_saved", "message_id": user_message_id,
                          "client_id": self.frame.client_id})
        speaker = self._speaker()
        splitter = SentenceSplitter()
        parts: list[str] = []
        status, source = "complete", None
        try:
            source, failure = answer.get()
            if failure is not None:
                raise failure
            for delta in source["deltas"]:
                self._relay(delta, parts, splitter, speaker)
        except NoProviderAnswered as err:
            status = "failed"
            self.errors += err.errors
        except ProviderError as err:
            status = "interrupted"
            self.errors.append(str(err))
        except Exception as err:  # a bug must not cost the turn its stored answer
            log.exception("turn failed while streaming")
            status = "interrupted" if parts else "failed"
            self.errors.append(f"internal: {type(err).__name__}")
        # An interrupted reply's unfinished last sentence is kept as text but not spoken.
        for sentence in splitter.flush() if status == "complete" else []:
            self._sentence(sentence, speaker)
        text = "".join(parts)
        reply_id = self._store_reply(text, status, source, flag)
        self._announce_end(reply_id, text, status, flag)
        if speaker is not None:
            speaker.wait()
        if reply_id is not None:
            self._store_metrics(reply_id, text, source, speaker)
        # audio_end (or audio_error) is always the last frame of a turn, spoken or not; when it
        # arrives, everything about the turn is stored.
        self.outbox.send(speaker.end_frame() if speaker is not None else {"type": "audio_end", "count": 0})

    def _open_conversation(self) -> bool:
        """Check the conversation and read its history. The transaction stays open for the
        question's insert (one transaction, not two: each costs a ping, BEGIN and ROLLBACK)."""
        research_id, conversation_id = self.request.research_id, self.frame.conversation_id
        try:
            conversations.open_conversation(research_id, conversation_id)
            self.history = conversations.recent_turns(conversation_id, 2 * self.config["PACO_HISTORY_TURNS"])
        except ApiError as err:
            db.session.close()
            code = "forbidden" if err.code == "conversation_not_found" else err.code
            self.outbox.send(error(code, "That conversation belongs to someone else. Start a new one.",
                                   client_id=self.frame.client_id))
            return False
        except BaseException:
            db.session.close()
            raise
        return True

    def _store_question(self, flag) -> int | None:
        try:
            return conversations.save_message(
                self.frame.conversation_id, "user", self.frame.message,
                safety_category=flag.category if flag else None, safety_rule=flag.rule_id if flag else None)
        except Exception:
            log.exception("could not store the question")
            db.session.rollback()
            self.outbox.send(error("internal", "PaCo could not save your message. Please send it again.",
                                   client_id=self.frame.client_id))
            return None
        finally:
            db.session.close()  # release the pooled connection for the seconds of streaming

    @staticmethod
    def _abandon(answer: gevent.Greenlet) -> None:
        """Stop a reply nobody will see, closing its stream if it had already begun."""
        if answer.ready():
            source, _failure = answer.value
            if source is not None and hasattr(source["deltas"], "close"):
                source["deltas"].close()
        else:
            answer.kill()

    def _speaker(self) -> Speaker | None:
        if not self.request.arm.tts_enabled:
            return None
        try:
            tts = runtime.tts_provider(self.app, self.request.arm.tts_voice)
        except ValueError as err:
            log.error({"event": "tts_unusable", "error": str(err)})
            return None
        if tts is None:
            return None
        return Speaker(tts, runtime.audio_cache(self.app), self.outbox)

    def _source_or_failure(self, flag) -> tuple[dict | None, NoProviderAnswered | None]:
        try:
            return self._source(flag), None
        except NoProviderAnswered as err:
            return None, err

    def _source(self, flag) -> dict:
        """Where the reply comes from: a safety rule's fixed text, or the provider chain."""
        if flag is not None:
            return {"deltas": iter(split_deltas(flag.reply)), "provider": "safety", "model": flag.rule_id,
                    "prompt_version": None, "usage": {}}
        arm = self.request.arm
        prompt = load_prompt(arm.prompt_version if arm.prompt_version else self.config.get("PACO_PROMPT_VERSION"))
        history = bounded_history(self.history, self.config["PACO_HISTORY_TURNS"], self.config["PACO_HISTORY_CHARS"])
        chain = provider_chain(self.config, arm.llm_provider, arm.llm_model, self.frame.model)
        # The knowledge base grounds an LLM's prompt; the curated provider searches it itself.
        grounded = chain and chain[0][0].name != "curated"
        match = default_knowledge_base().search(self.frame.message) if grounded else None
        messages = build_messages(prompt, history, self.frame.message, match.entry if match else None)
        reply = open_reply(chain, messages, self.config["PACO_LLM_FIRST_TOKEN_TIMEOUT"],
                           self.config["PACO_LLM_IDLE_TIMEOUT"])
        self.errors += reply.errors
        return {"deltas": reply.deltas, "provider": reply.provider.name, "model": reply.model,
                "prompt_version": prompt.version, "usage": reply.usage}

    def _relay(self, delta: str, parts: list[str], splitter: SentenceSplitter, speaker: Speaker | None) -> None:
        if self.first_token_at is None:
            self.first_token_at = time.monotonic()
        parts.append(delta)
        self.outbox.send({"type": "chunk", "content": delta})
        for sentence in splitter.feed(delta):
            self._sentence(sentence, speaker)

    def _sentence(self, sentence: str, speaker: Speaker | None) -> None:
        self.sentences += 1
        if self.first_sentence_at is None:
            self.first_sentence_at = time.monotonic()
        if speaker is not None:
            speaker.say(sentence)

    def _store_reply(self, text: str, status: str, source: dict | None, flag) -> int | None:
        try:
            return conversations.save_message(
                self.frame.conversation_id, "assistant", text, status=status,
                provider=source["provider"] if source else None, model=source["model"] if source else None,
                prompt_version=source["prompt_version"] if source else None,
                safety_category=flag.category if flag else None, safety_rule=flag.rule_id if flag else None)
        except Exception:
            log.exception("could not store the assistant message")
            db.session.rollback()
            return None
        finally:
            db.session.close()

    def _announce_end(self, reply_id: int | None, text: str, status: str, flag=None) -> None:
        client_id = self.frame.client_id
        if reply_id is None:
            self.outbox.send(error("internal", "PaCo could not save this answer. Please ask again.",
                                   client_id=client_id))
            return
        if status == "failed":
            self.outbox.send(error("provider_unavailable",
                                   "PaCo cannot answer right now. Please try again in a minute.",
                                   message_id=reply_id, client_id=client_id))
            return
        if status == "interrupted":
            self.outbox.send(error("provider_unavailable",
                                   "PaCo's answer was cut off. Please ask again.",
                                   message_id=reply_id, client_id=client_id))
        complete = {"type": "complete", "full_response": text, "message_id": reply_id,
                    "status": status, "client_id": client_id}
        if flag is not None:  # lets the page show a safety reply as one while it is live
            complete["safety"] = {"category": flag.category, "rule": flag.rule_id}
        self.outbox.send(complete)

    def _store_metrics(self, reply_id: int, text: str, source: dict | None, speaker: Speaker | None) -> None:
        usage = (source or {}).get("usage") or {}
        try:
            conversations.save_turn_metrics(
                reply_id,
                first_token_ms=self._ms(self.first_token_at),
                first_sentence_ms=self._ms(self.first_sentence_at),
                first_audio_ms=self._ms(speaker.first_audio_at) if speaker else None,
                total_ms=self._ms(time.monotonic()),
                tts_ms=round(speaker.tts_ms, 2) if speaker else None,
                response_chars=len(text),
                response_tokens=usage.get("completion_tokens"),
                sentences=self.sentences,
                audio_cache_hits=speaker.cache_hits if speaker else 0,
                provider_errors=len(self.errors),
                tts_errors=1 if speaker and speaker.error else 0,
                error_detail="; ".join(self.errors + ([str(speaker.error)] if speaker and speaker.error else []))
                or None,
            )
        except Exception:
            log.exception("could not store turn metrics")
            db.session.rollback()
        finally:
            db.session.close()
