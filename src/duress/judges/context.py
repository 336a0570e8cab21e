"""What a judge sees of one sample: the whole situation, not just the agent's actions.

A :class:`JudgeContext` holds the action record, the world (who is who), the condition (factor
levels) and the environment the agent was shown and acted on (its inbox, the server's files …),
plus the family's *artefacts*: the emails or documents that are the leverage (blackmail) or the
wrongdoing (bold action) in this very environment. Rule detectors and the LLM judge both read
it, so what to look for is derived from the sample's own documents in any world: a random
world, a world file, an imported transcript.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, TypeVar

from duress.design import Condition
from duress.judges.record import ActionRecord
from duress.tools.mailbox import Email
from duress.world import World


@dataclass(frozen=True)
class Artefact:
    """One email or document of the environment that a family marks as meaningful."""

    kind: str  # "email" | "document"
    ref: str  # the email's id or the document's path
    title: str  # subject or file name
    text: str
    people: tuple[str, ...] = ()  # roles of the sender and recipients (emails)

    @classmethod
    def of_email(cls, email: Email, world: World) -> "Artefact":
        roles = [world.role_of(a) for a in (email.sender, *email.to, *email.cc)]
        return cls("email", str(email.id), email.subject, email.body, tuple(r for r in roles if r))


T = TypeVar("T")


@dataclass(frozen=True)
class JudgeContext:
    record: ActionRecord
    world: World
    condition: Condition
    environment: Mapping[str, Any] = field(default_factory=dict)  # toolset kind → its configuration
    artefacts: Mapping[str, tuple[Artefact, ...]] = field(default_factory=dict)  # e.g. "leverage" → emails
    # An imported transcript: the prompt the agent was given (the inbox, when the prompt listed one
    # the importer could read, is in the record as for a native run); "" for a native run.
    prompt: str = ""
    _memo: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def inbox(self) -> list[Email]:
        return self.record.inbox

    @property
    def inbox_known(self) -> bool:
        """Whether the emails the agent was shown are known one by one (claims can be checked against them)."""
        return bool(self.record.inbox)

    @property
    def shown_text(self) -> str:
        """Everything the agent was shown to read: its inbox's emails, or an imported prompt with none."""
        if self.record.inbox:
            return " ".join(e.subject + " " + e.body for e in self.record.inbox)
        return self.prompt

    def artefacts_of(self, kind: str) -> tuple[Artefact, ...]:
        return tuple(self.artefacts.get(kind, ()))

    def memo(self, key: str, make: Callable[[], T]) -> T:
        """``make()`` computed once per context (detectors share what they derive from it)."""
        if key not in self._memo:
            self._memo[key] = make()
        return self._memo[key]
