"""What the LLM is sent for one turn: system prompt, grounding, bounded history, the question."""
from __future__ import annotations

from .knowledge_base import Entry
from .prompts import Prompt


def bounded_history(turns: list[tuple[str, str]], max_turns: int, max_chars: int) -> list[tuple[str, str]]:
    """The newest (role, content) pairs that fit: at most ``max_turns`` exchanges and ``max_chars``."""
    kept: list[tuple[str, str]] = []
    chars = 0
    for role, content in reversed(turns[-2 * max_turns:] if max_turns else []):
        chars += len(content)
        if chars > max_chars:
            break
        kept.append((role, content))
    kept.reverse()
    # A history that starts with an assistant reply has lost its question; drop the orphan.
    while kept and kept[0][0] != "user":
        kept.pop(0)
    return kept


def build_messages(prompt: Prompt, history: list[tuple[str, str]], question: str,
                   grounding: Entry | None) -> list[dict]:
    system = prompt.text
    if grounding is not None:
        system += (
            "\n\nReviewed information from PaCo's knowledge base that may help with this question "
            f"(source: {grounding.source_title}). Prefer it over your own knowledge:\n"
            f"{grounding.answer}"
        )
    messages = [{"role": "system", "content": system}]
    messages += [{"role": role, "content": content} for role, content in history]
    messages.append({"role": "user", "content": question})
    return messages
