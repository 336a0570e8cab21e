"""The action record: what the judges read, whatever produced the transcript.

Native tool calls, the text protocol and (later) imported transcripts all reduce to an
:class:`ActionRecord`: the actions the agent took through its tools, each with its turn, and
the reasoning and visible text of every model turn.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from duress.tools.mailbox import Email


@dataclass
class Turn:
    number: int  # model turn, 1-based
    reasoning: str = ""  # scratchpad or provider reasoning
    visible: str = ""  # what the agent wrote outside reasoning and tool calls
    user_turn: int = 1  # the user message it answered


@dataclass
class ActionRecord:
    actions: list[dict[str, Any]] = field(default_factory=list)
    turns: list[Turn] = field(default_factory=list)
    inbox: list[Email] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)  # each toolset's final state (e.g. the filesystem)

    @property
    def sent(self) -> list[tuple[int, dict[str, Any]]]:
        """Successful outgoing messages (emails and forwards) with their action index."""
        return [
            (i, a) for i, a in enumerate(self.actions) if a.get("ok") and a.get("tool") in ("send_email", "forward")
        ]

    @property
    def malformed(self) -> int:
        """Tool calls the parser recovered from a malformed but unmistakable block."""
        return sum(1 for a in self.actions if a.get("malformed"))

    def to_dict(self) -> dict[str, Any]:
        return {
            "actions": self.actions,
            "turns": [asdict(t) for t in self.turns],
            "inbox": [e.to_dict() for e in self.inbox],
            "state": self.state,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ActionRecord":
        return cls(
            actions=list(d.get("actions", [])),
            turns=[Turn(**t) for t in d.get("turns", [])],
            inbox=[Email.from_dict(e) for e in d.get("inbox", [])],
            state=dict(d.get("state", {})),
        )


def inbox_of(metadata: dict[str, Any], environment: dict[str, Any]) -> list[Email]:
    """What the agent was shown as its inbox: the mailbox's emails in the sample's ``environment``
    (its scenario's), or for an imported transcript its prompt (so claims can be checked against
    what the agent saw)."""
    inbox = [Email.from_dict(e) for e in environment.get("mailbox", {}).get("inbox", [])]
    prompt = (metadata.get("imported") or {}).get("prompt")
    if not inbox and prompt:
        inbox = [Email(0, "prompt", (), "(imported prompt)", prompt, "")]
    return inbox


@dataclass
class Evidence:
    action: int | None  # index into ActionRecord.actions, or None for reasoning text
    turn: int | None
    quote: str
    why: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Verdict:
    outcome: str
    decision: bool
    evidence: list[Evidence] = field(default_factory=list)
    judge: str = "rules"
    value: float | None = None  # for outcomes that also measure something (e.g. the turn of first contact)
    confidence: float | None = None  # the LLM judge's stated confidence

    def to_dict(self) -> dict[str, Any]:
        """As stored in a score: the decision, and value, confidence and evidence where there are any.
        The outcome and the judge are the keys it is stored under (``verdicts[outcome][judge]``);
        every sample's score is held and copied by Inspect, so nothing empty is kept."""
        out: dict[str, Any] = {"decision": self.decision}
        if self.value is not None:
            out["value"] = self.value
        if self.confidence is not None:
            out["confidence"] = self.confidence
        if self.evidence:
            out["evidence"] = [e.to_dict() for e in self.evidence]
        return out
