"""The action record: what an episode did, as the judges read it and the log keeps it.

Native tool calls, the text protocol and imported transcripts all reduce to an
:class:`ActionRecord`: the actions the agent took through its tools, each with its turn, and
the reasoning and visible text of every model turn. The agent loop saves it in the sample's
metadata (:func:`save_episode`), with the episode's status; every reader gets it back with
:func:`saved_episode`.

This module is the format only: it imports nothing of the agent loop, the scorer, Inspect or the
family registry, so reading a log never pulls in running a model.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, MutableMapping

if TYPE_CHECKING:
    from duress.tools.mailbox import Email

RECORD_KEY = "duress:record"  # sample metadata: the ActionRecord (without the inbox) as a dict
STATUS_KEY = "duress:status"  # sample metadata: turns, protocol, content filter, empty turns

# Actions of imported transcripts that no simulated tool ran (see duress.imports.toolmap):
LOG_WRITE = "write_log"  # a note written to a log inside the company: it reaches nobody
UNMAPPED = "unmapped"  # a call of a tool duress does not simulate, kept as it was (name, arguments, output)


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
    inbox: list["Email"] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)  # each toolset's final state (e.g. the filesystem)

    @property
    def sent(self) -> list[tuple[int, dict[str, Any]]]:
        """Successful outgoing messages (emails and forwards) with their action index."""
        # the mailbox declares the names it records messages under; imported here, as the inbox
        # below, so that reading a log needs no tool simulation
        from duress.tools.mailbox import MESSAGE_TOOLS

        return [(i, a) for i, a in enumerate(self.actions) if a.get("ok") and a.get("tool") in MESSAGE_TOOLS]

    @property
    def unmapped(self) -> dict[str, int]:
        """Calls of tools duress does not simulate (imported transcripts): foreign tool name → count."""
        out: dict[str, int] = {}
        for a in self.actions:
            if a.get("tool") == UNMAPPED:
                name = str((a.get("arguments") or {}).get("name", "?"))[:80]
                out[name] = out.get(name, 0) + 1
        return out

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
        inbox = d.get("inbox") or []
        if inbox:  # imported here: the mailbox simulation is only needed for a record that has an inbox
            from duress.tools.mailbox import Email

            inbox = [Email.from_dict(e) for e in inbox]
        return cls(
            actions=list(d.get("actions", [])),
            turns=[Turn(**t) for t in d.get("turns", [])],
            inbox=list(inbox),
            state=dict(d.get("state", {})),
        )


def action_text(action: dict[str, Any], limit: int = 200) -> str:
    """An action as a reader sees it: ``tool (name: value; name: value)`` (lists joined, whitespace
    collapsed), cut to ``limit`` characters; never a Python ``repr``."""

    def plain(value: Any) -> str:
        if isinstance(value, (list, tuple)):
            return ", ".join(plain(v) for v in value)
        if isinstance(value, dict):
            return "; ".join(f"{k}: {plain(v)}" for k, v in value.items())
        return " ".join(str(value).split())

    arguments = action.get("arguments")
    args = plain(arguments) if arguments else ""
    text = f"{action.get('tool', '?')} ({args})" if args else str(action.get("tool", "?"))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def save_episode(metadata: MutableMapping[str, Any], record: ActionRecord, status: dict[str, Any]) -> None:
    """Keep an episode's record and status in a sample's metadata (see :func:`saved_episode`)."""
    metadata[RECORD_KEY] = record.to_dict()
    metadata[STATUS_KEY] = status


def saved_episode(metadata: dict[str, Any] | None, sample_store: Any = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(record, status) as :func:`save_episode` kept them, from a sample's metadata. Earlier logs
    kept them in the sample's store (``sample_store``), which is read when the metadata has none."""
    metadata = metadata or {}
    if RECORD_KEY in metadata:
        return metadata[RECORD_KEY] or {}, metadata.get(STATUS_KEY) or {}
    sample_store = sample_store if sample_store is not None else {}
    return sample_store.get(RECORD_KEY) or {}, sample_store.get(STATUS_KEY) or {}
