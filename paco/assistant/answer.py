"""What to answer a participant: a safety rule's fixed reply, or the arm's provider chain.

The chat package relays, speaks and stores what this returns; the choice of prompt, provider,
model and grounding lives here, with no web machinery, so a CLI or a test can ask the same way.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, Mapping

from .chain import provider_chain
from .context import bounded_history, build_messages
from .knowledge_base import default_knowledge_base
from .prompts import load_prompt
from .providers.curated import split_deltas
from .reply import open_reply
from .safety import SafetyFlag
from .second_opinion import SecondOpinion, gate


@dataclass(frozen=True)
class Arm:
    """The participant's study-arm settings, read when the message arrived (None: server default)."""

    llm_provider: str | None = None
    llm_model: str | None = None
    prompt_version: str | None = None
    tts_enabled: bool = True
    tts_voice: str | None = None
    daily_llm_tokens: int = 0  # caps per research ID and UTC day; 0 = unlimited
    daily_tts_chars: int = 0


@dataclass
class Answer:
    """A reply being written: its text deltas and where they come from."""

    deltas: Iterator[str]
    provider: str
    model: str | None
    prompt_version: str | None = None
    usage: dict = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)  # providers that failed before this one answered
    flag: SafetyFlag | None = None  # set when a safety layer decided the reply

    def flagged(self, flag: SafetyFlag) -> None:
        """A safety layer replaced the reply: it is stored as the safety reply it became."""
        self.flag, self.provider, self.model, self.prompt_version = flag, "safety", flag.rule_id, None

    @property
    def paid(self) -> bool:
        """Whether each further token costs money: an LLM's reply, not the offline knowledge base
        or a safety reply (those are finished and stored whole even when nobody is reading)."""
        return self.provider not in ("curated", "safety")

    def close(self) -> None:
        """Stop a reply nobody will read (closes a provider's stream)."""
        if hasattr(self.deltas, "close"):
            self.deltas.close()


def safety_answer(flag: SafetyFlag) -> Answer:
    return Answer(deltas=iter(split_deltas(flag.reply)), provider="safety", model=flag.rule_id, flag=flag)


def open_answer(config: Mapping, arm: Arm, message: str, history: list[tuple[str, str]],
                flag: SafetyFlag | None = None, requested_model: str | None = None) -> Answer:
    """Start the reply to ``message``; raises ``NoProviderAnswered`` if every provider failed
    before its first token."""
    if flag is not None:
        return safety_answer(flag)
    prompt = load_prompt(arm.prompt_version or config.get("PACO_PROMPT_VERSION"))
    history = bounded_history(history, config["PACO_HISTORY_TURNS"], config["PACO_HISTORY_CHARS"])
    chain = provider_chain(config, arm.llm_provider, arm.llm_model, requested_model)
    # The knowledge base grounds an LLM's prompt; the curated provider searches it itself.
    grounded = chain and chain[0][0].name != "curated"
    # Started before the answer's own request, so that the two run side by side.
    opinion = _second_opinion(config, chain, message) if grounded else None
    match = default_knowledge_base().search(message) if grounded else None
    messages = build_messages(prompt, history, message, match.entry if match else None)
    reply = open_reply(chain, messages, config["PACO_LLM_FIRST_TOKEN_TIMEOUT"], config["PACO_LLM_IDLE_TIMEOUT"])
    answer = Answer(deltas=reply.deltas, provider=reply.provider.name, model=reply.model,
                    prompt_version=prompt.version, usage=reply.usage, errors=list(reply.errors))
    if opinion is not None:
        answer.deltas = gate(reply.deltas, opinion, config["PACO_SAFETY_SECOND_OPINION_TIMEOUT"], answer.flagged)
    return answer


def _second_opinion(config: Mapping, chain, message: str) -> SecondOpinion | None:
    """The LLM's own safety classification of the message, when the primary provider is an LLM."""
    if config.get("PACO_SAFETY_SECOND_OPINION", "auto") == "off":
        return None
    provider, model = chain[0]
    if not hasattr(provider, "client"):
        return None
    return SecondOpinion(provider, model, message, config["PACO_SAFETY_SECOND_OPINION_TIMEOUT"])
