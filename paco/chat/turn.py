"""One chat turn: store the question, relay the answer as it streams, speak it, store it and its metrics.

What to answer is the assistant's (``paco.assistant.answer``); this module relays, frames and stores.

Frame order and guarantees are docs/protocol.md. The database is touched before the first chunk
(the user's message is committed) and after the last one (the reply, then the metrics), never
in between; the session is closed while streaming so no pooled connection is held for seconds.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace

import gevent
from flask import Flask

from .. import metrics
from ..assistant import barriers
from ..assistant.answer import Answer, Arm, open_answer, safety_answer
from ..assistant.providers import ProviderError
from ..assistant.readability import check_reply
from ..assistant.reply import NoProviderAnswered
from ..assistant.safety import check_message
from ..errors import PacoError
from ..extensions import db
from ..models.types import iso_utc
from ..offload import off_the_loop
from ..services import checkins, conversations, quotas, turn_leases
from ..speech.sentences import SentenceSplitter
from . import inflight, runtime
from .frames import ChatFrame, CheckinFrame, error, error_frame
from .inflight import LeasedTurn, TurnStopped
from .outbox import Outbox
from .speaker import Speaker

log = logging.getLogger("paco.chat.turn")


class ClientGone(Exception):
    """The participant closed the page mid-reply: stop an LLM's stream (no more tokens paid for)
    and store what was written so far as ``interrupted``. Offline and safety replies cost nothing
    and are finished, so the page finds them whole in history when it reconnects."""


@dataclass(frozen=True)
class TurnRequest:
    research_id: str
    frame: ChatFrame | CheckinFrame
    arm: Arm
    received: float  # time.monotonic() when the frame arrived


def run_turn(app: Flask, outbox: Outbox, request: TurnRequest) -> None:
    with app.app_context():
        try:
            (CheckinTurn if isinstance(request.frame, CheckinFrame) else Turn)(app, outbox, request).run()
        finally:
            db.session.remove()


class Turn(LeasedTurn):
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
        self.arm = request.arm  # this turn's settings: a daily cap reached narrows them
        self.notice: dict | None = None
        self.question = request.frame.message  # what the participant said, as it is stored
        self.hold_leases(inflight.keeper(app))

    def _ms(self, at: float | None) -> float | None:
        return None if at is None else round((at - self.t0) * 1000, 2)

    def run(self) -> None:
        try:
            self._run()
        finally:
            if self.question_id is not None:
                self.keeper.discard(self.question_id)

    def _run(self) -> None:
        if not self._open_conversation():
            return
        flag = self._flag()
        # The model is asked while the question is being stored: its first token takes
        # hundreds of ms, the commit a few, and what is guaranteed is only that the question is
        # stored before any reply text is sent.
        answer = gevent.spawn(self._answer_or_failure, flag)
        gevent.sleep(0)  # let the request leave before the commit (SQLite's never yields)
        user_message_id = self._store_question(flag)
        if user_message_id is None:
            self._abandon(answer)
            return
        self.outbox.send({"type": "user_message_saved", "message_id": user_message_id,
                          "client_id": self.frame.client_id})
        if self.notice is not None:
            self.outbox.send(self.notice)
        speaker = self._speaker()
        splitter = SentenceSplitter()
        parts = self.parts
        status, source = "complete", None
        self._greenlet = gevent.getcurrent()
        try:
            if self._stopping:
                raise TurnStopped()
            source, failure = self._next(answer.get)
            self.source = source
            if failure is not None:
                raise failure
            self.errors += source.errors
            deltas = iter(source.deltas)
            while True:
                try:
                    delta = self._next(deltas.__next__)
                except StopIteration:
                    break
                if self._stopping:
                    raise TurnStopped()
                if self.outbox.closed and source.paid:
                    raise ClientGone()
                self._relay(delta, parts, splitter, speaker)
        except TurnStopped:
            status = "interrupted" if parts else "failed"
            self.errors.append("stopped: the server is restarting")
            if source is None:
                self._abandon(answer)
            else:
                source.close()
        except ClientGone:
            status = "interrupted"
            self.errors.append("client disconnected")
            source.close()
            metrics.CLIENT_GONE.inc()
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
        if source is not None and source.flag is not None and flag is None:
            # The second layer caught what the rules did not: the question carries its flag too.
            flag = source.flag
            self._flag_question(user_message_id, flag)
        reply_id = self._store_reply(text, status, source, flag)
        self._announce_end(reply_id, text, status, flag)
        if speaker is not None:
            speaker.wait()
        if reply_id is not None:
            self._replied(reply_id)
            self._store_metrics(reply_id, text, source, speaker)
        metrics.record_turn(status, self._ms(self.first_token_at),
                            self._ms(speaker.first_audio_at) if speaker else None, len(self.errors),
                            fell_back=bool(source and source.errors), tts_failed=bool(speaker and speaker.error))
        # audio_end (or audio_error) is always the last frame of a turn, spoken or not; when it
        # arrives, everything about the turn is stored.
        self.outbox.send(speaker.end_frame() if speaker is not None else {"type": "audio_end", "count": 0})

    def _open_conversation(self) -> bool:
        """Check the conversation and read its history. The transaction stays open for the
        question's insert (one transaction, not two: each costs a ping, BEGIN and ROLLBACK)."""
        research_id, conversation_id = self.request.research_id, self.frame.conversation_id
        try:
            self._prepare(research_id)
            conversations.open_conversation(research_id, conversation_id)
            unanswered = turn_leases.open_turns(conversation_id)
            if unanswered:  # a question still being answered, or whose worker died: settle it first
                db.session.close()
                self.keeper.settle(conversation_id, unanswered)
            self.history = conversations.recent_turns(conversation_id, 2 * self.config["PACO_HISTORY_TURNS"])
            self._apply_quota(research_id)
        except PacoError as err:
            db.session.close()
            self.outbox.send(error_frame(err, client_id=self.frame.client_id))
            return False
        except BaseException:
            db.session.close()
            raise
        return True

    # --- what a kind of turn changes (CheckinTurn) ------------------------------------------
    def _prepare(self, research_id: str) -> None:
        """Read what the turn needs before anything is stored; a PacoError refuses the frame."""

    def _flag(self):
        return check_message(self.question)

    def _question_fields(self) -> dict:
        return {"input": self.frame.input}

    def _replied(self, reply_id: int) -> None:
        """The answer is stored (and the turn will end with its metrics)."""

    def _apply_quota(self, research_id: str) -> None:
        """Past a daily cap the turn answers without the LLM, or without speech, and says so."""
        state = quotas.quota_state(research_id, self.arm.daily_llm_tokens, self.arm.daily_tts_chars)
        if state is None or not state.any:
            return
        self.arm = replace(self.arm, llm_provider="curated" if state.llm_reached else self.arm.llm_provider,
                           tts_enabled=self.arm.tts_enabled and not state.tts_reached)
        self.notice = {"type": "notice", "code": "quota_reached", "message": quotas.quota_message(state),
                       "resets_at": iso_utc(state.resets_at), "client_id": self.frame.client_id}
        for name, reached in (("quota_llm", state.llm_reached), ("quota_tts", state.tts_reached)):
            if reached:
                metrics.LIMIT_HITS.labels(name).inc()

    def _store_question(self, flag) -> int | None:
        """Store the question with its turn's lease, then keep the lease alive while the turn runs."""
        try:
            self.question_id = turn_leases.save_question(
                self.frame.conversation_id, self.question, self.keeper.holder, self.keeper.lease_seconds,
                **self._question_fields(), safety_category=flag.category if flag else None,
                safety_rule=flag.rule_id if flag else None, safety_layer=flag.layer if flag else None)
            self.keeper.add(self.question_id, self)
            return self.question_id
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
            if source is not None:
                source.close()
        else:
            answer.kill()

    def _speaker(self) -> Speaker | None:
        if not self.arm.tts_enabled:
            return None
        try:
            tts = runtime.tts_provider(self.app, self.arm.tts_voice)
        except ValueError as err:
            log.error({"event": "tts_unusable", "error": str(err)})
            return None
        if tts is None:
            return None
        return Speaker(tts, runtime.audio_cache(self.app), self.outbox)

    def _answer_or_failure(self, flag) -> tuple[Answer | None, NoProviderAnswered | None]:
        try:
            return open_answer(self.config, self.arm, self.question, self.history, flag,
                               self.frame.model), None
        except NoProviderAnswered as err:
            return None, err

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

    def _store_reply(self, text: str, status: str, source: Answer | None, flag) -> int | None:
        """Store the answer and end the turn's lease; None if it could not be stored, or if the
        turn was closed meanwhile as an orphan (its lease had run out: this worker stalled)."""
        try:
            reply_id = turn_leases.save_answer(
                self.question_id, self.keeper.holder, self.frame.conversation_id, text, status=status,
                provider=source.provider if source else None, model=source.model if source else None,
                prompt_version=source.prompt_version if source else None,
                safety_category=flag.category if flag else None, safety_rule=flag.rule_id if flag else None,
                safety_layer=flag.layer if flag else None)
            if reply_id is None:
                log.error({"event": "turn_closed_elsewhere", "question_id": self.question_id})
            else:
                self.keeper.discard(self.question_id)
            return reply_id
        except Exception:
            log.exception("could not store the assistant message")
            db.session.rollback()
            return None
        finally:
            db.session.close()

    def _flag_question(self, message_id: int, flag) -> None:
        try:
            conversations.flag_message(message_id, flag.category, flag.rule_id, flag.layer)
        except Exception:
            log.exception("could not flag the question")
            db.session.rollback()
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
            complete["safety"] = {"category": flag.category, "rule": flag.rule_id, "layer": flag.layer}
        self.outbox.send(complete)

    @staticmethod
    def _grade(text: str, source: Answer | None) -> float | None:
        """An LLM answer's reading grade, stored with its metrics; one above PaCo's level is logged."""
        if source is None or source.provider in ("curated", "safety", barriers.PROVIDER) or not text:
            return None
        # Off the loop: pyphen's syllable counting costs ~20-50 µs per new word (a quarter of the
        # worker's CPU at 100 streaming conversations), and every other socket would wait for it.
        readability = off_the_loop(check_reply, text)
        if not readability.ok:
            log.warning({"event": "reply_above_grade", "provider": source.provider, "model": source.model,
                         **readability.as_dict()})
        return readability.grade

    def _store_metrics(self, reply_id: int, text: str, source: Answer | None, speaker: Speaker | None) -> None:
        usage = source.usage if source else {}
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
                reply_grade=self._grade(text, source),
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


class CheckinTurn(Turn):
    """PaCo's answer to the barrier a participant named in the daily check-in.

    The participant's answer is stored as their message (``input`` "checkin") so the conversation
    reads as it happened; the reply is the reviewed guidance for the barrier (paco.assistant.barriers),
    or the safety reply when their own words (the note) trip the safety screen.
    """

    def _prepare(self, research_id: str) -> None:
        checkin = checkins.for_reply(research_id, self.frame.checkin_id)
        # Plain values: the session is committed and closed while the reply streams.
        self.checkin_id, self.reason, self.note = checkin.id, checkin.reason, checkin.note
        self.question = checkins.message_text(checkin)

    def _flag(self):
        return check_message(self.note) if self.note else None

    def _question_fields(self) -> dict:
        return {"input": "checkin", "topic": None}

    def _answer_or_failure(self, flag) -> tuple[Answer | None, NoProviderAnswered | None]:
        if flag is not None:
            return safety_answer(flag), None
        guidance = barriers.guidance_for(self.reason)
        return Answer(deltas=barriers.paced(guidance.answer, self.config["PACO_CURATED_DELAY_MS"]),
                      provider=barriers.PROVIDER, model=guidance.model), None

    def _replied(self, reply_id: int) -> None:
        try:
            checkins.link_reply(self.checkin_id, reply_id)
        except Exception:
            log.exception("could not link the check-in to its reply")
            db.session.rollback()
        finally:
            db.session.close()
