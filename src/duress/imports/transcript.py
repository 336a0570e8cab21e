"""One imported transcript, whatever it was read from: the conversation as Inspect messages.

Every input shape is read into a :class:`Transcript` whose ``messages`` are the conversation as
Inspect chat messages (system, user, assistant with its text, reasoning and tool calls, tool
results). That list is the imported sample's input, so ``inspect view`` shows the transcript as it
was, and the replay (:mod:`duress.imports.replay`) walks it to rebuild the action record.

Everything is bounded: how many messages, tool calls and characters one transcript may hold.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from inspect_ai.model import ChatMessage

MAX_TRANSCRIPTS = 100_000  # transcripts (lines, samples) in one input
MAX_MESSAGES = 1_000  # messages in one transcript
MAX_CALLS = 500  # tool calls in one transcript (the rest are refused with a clear error)
MAX_TEXT_CHARS = 200_000  # one message's text or reasoning; longer is cut, with a note
MAX_FILES = 200  # supplied files in one transcript
MAX_FILE_CHARS = 200_000  # one supplied file


def clip(text: Any, limit: int = MAX_TEXT_CHARS) -> str:
    text = "" if text is None else str(text)
    return text if len(text) <= limit else text[:limit] + f"\n[…clipped on import: {len(text)} characters]"


@dataclass
class Transcript:
    """One sample to judge."""

    id: str
    where: str  # file:line or file#sample, for error messages
    messages: list[ChatMessage]
    factors: dict[str, str] = field(default_factory=dict)  # duress factor levels, as far as known
    condition_id: str | None = None  # the source's own condition id, when it has one (a peer task)
    files: dict[str, str] = field(default_factory=dict)  # path → text, supplied with the transcript
    peer: dict[str, Any] | None = None  # the source harness's own grading: {"grader", "verdicts", "condition"}
    epoch: int = 1

    @property
    def system(self) -> str:
        return "\n\n".join(m.text for m in self.messages if m.role == "system")

    @property
    def user_texts(self) -> list[str]:
        return [m.text for m in self.messages if m.role == "user"]

    @property
    def prompt(self) -> str:
        """What the agent was given: its user messages (the first is the prompt; later ones follow)."""
        return "\n\n".join(t for t in self.user_texts if t)
