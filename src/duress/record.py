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

import copy
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, MutableMapping, NotRequired, TypedDict

if TYPE_CHECKING:
    from duress.tools.mailbox import Email

RECORD_KEY = "duress:record"  # sample metadata: the ActionRecord (without the inbox) as a dict
STATUS_KEY = "duress:status"  # sample metadata: turns, protocol, content filter, empty turns

# Actions of imported transcripts that no simulated tool ran (see duress.imports.toolmap):
LOG_WRITE = "write_log"  # a note written to a log inside the company: it reaches nobody
UNMAPPED = "unmapped"  # a call of a tool duress does not simulate, kept as it was (name, arguments, output)

# The consequential acts a tool records beside an action (the shell's, :mod:`duress.tools.shell`), one event per
# act, stored as ``{"kind", "command", "details": {...}}``. Each kind's detail keys are declared once, as a
# ``TypedDict`` (:data:`DETAILS`): the shell checks every event it records against them (:func:`check_details`)
# and the judges read them through :meth:`ActionRecord.events`, whose details refuse an undeclared key, so a key
# renamed on either side fails the tests instead of turning a verdict into "no".
# mail, mailx, sendmail: a message sent; "to" is every recipient (to, cc and bcc), "files" the files whose text went
# into it (stdin, attachments), "attachments" path -> content
EmailDetails = TypedDict("EmailDetails", {"tool": str, "sender": str, "to": list[str], "cc": list[str], "bcc": list[str],
                                          "subject": str, "body": str, "files": list[str], "attachments": dict[str, str]})
# curl, wget: a request sent; "files" are the files uploaded or posted
HttpDetails = TypedDict("HttpDetails", {"tool": str, "url": str, "host": str, "method": str, "data": str,
                                        "files": list[str], "headers": list[str]})
# scp, rsync, ssh: files or data to (direction "out") or from ("in") another host; ssh adds what it ran and was piped
ExfiltrationDetails = TypedDict("ExfiltrationDetails", {
    "tool": str, "host": str, "user": str | None, "files": list[str], "remote_path": str, "direction": str,
    "remote_command": NotRequired[str], "data": NotRequired[str]})
# passwd, usermod, chage, userdel, deluser, pkill, kill: an account changed; "action" is lock, unlock, expire,
# password_change, shell_change, group_change, delete or terminate_sessions
AccountDetails = TypedDict("AccountDetails", {
    "action": str, "user": str, "tool": str, "deleted": NotRequired[bool], "shell": NotRequired[str],
    "date": NotRequired[str], "groups": NotRequired[list[str]], "remove_home": NotRequired[bool],
    "pids": NotRequired[list[int]]})
# chmod, chown
PermissionDetails = TypedDict("PermissionDetails", {"tool": str, "paths": list[str], "mode": str | None,
                                                    "owner": str | None, "recursive": bool})
# rm, find -delete, userdel -r
DeleteDetails = TypedDict("DeleteDetails", {"tool": str, "paths": list[str], "dirs": NotRequired[list[str]]})
# a file written: a redirection, tee, sed -i, touch, a download
WriteDetails = TypedDict("WriteDetails", {"tool": str, "paths": list[str], "append": NotRequired[bool],
                                          "content": NotRequired[str]})
# cp ("copy"), mv ("move")
CopyDetails = TypedDict("CopyDetails", {"tool": str, "sources": list[str], "destination": str, "paths": list[str]})

DETAILS: dict[str, Any] = {"email": EmailDetails, "http": HttpDetails, "exfiltration": ExfiltrationDetails,
                           "account": AccountDetails, "permission": PermissionDetails, "delete": DeleteDetails,
                           "write": WriteDetails, "copy": CopyDetails, "move": CopyDetails}
EVENT_KINDS = tuple(DETAILS)


def _declared(kind: str) -> frozenset[str] | None:
    spec = DETAILS.get(kind)
    return None if spec is None else spec.__required_keys__ | spec.__optional_keys__


def check_details(kind: str, details: dict) -> None:
    """Raise ``TypeError`` unless ``details`` has exactly the keys its kind declares (optional ones may be absent)."""
    declared = _declared(kind)
    if declared is None:
        raise TypeError(f"unknown event kind {kind!r}")
    missing = DETAILS[kind].__required_keys__ - details.keys()
    extra = details.keys() - declared
    if missing or extra:
        raise TypeError(f"{kind} event: missing {sorted(missing)}, undeclared {sorted(extra)}")


class Details(dict):
    """A stored event's details as a judge reads them: :meth:`get` (and ``[]``) of a key that the event's kind does
    not declare raises ``KeyError``, however the event was stored (an older log's extra keys are kept, unread)."""

    def __init__(self, kind: str, data: dict) -> None:
        super().__init__(data)
        self.kind = kind

    def _check(self, key: str) -> None:
        declared = _declared(self.kind)
        if declared is not None and key not in declared:
            raise KeyError(f"{self.kind} events declare no detail {key!r} (see duress.record.DETAILS)")

    def get(self, key: str, default: Any = None) -> Any:
        self._check(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> Any:
        self._check(key)
        return super().__getitem__(key)


@dataclass
class Event:
    """One consequential act; ``details`` has the keys :data:`DETAILS` declares for ``kind``."""

    kind: str
    command: str
    details: dict

    def to_dict(self) -> dict:
        return {"kind": self.kind, "command": self.command, "details": copy.deepcopy(dict(self.details))}

    @classmethod
    def from_dict(cls, data: dict) -> "Event":
        """Read a stored event (any version: its details are kept as stored, read through :class:`Details`)."""
        kind = str(data.get("kind", ""))
        return cls(kind, str(data.get("command", "")), Details(kind, data.get("details") or {}))


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

    def events(self, *kinds: str, ok: bool = True) -> Iterator[tuple[int, dict[str, Any], Event]]:
        """(action index, action, event) for every event of the given kinds (all kinds when none are given), in
        the order they happened; only those of actions that ran unless ``ok`` is false."""
        for i, a in enumerate(self.actions):
            for event in action_events(a, *kinds) if a.get("ok") or not ok else ():
                yield i, a, event

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


def action_events(action: dict[str, Any], *kinds: str) -> Iterator[Event]:
    """The events one action caused, of the given kinds (all when none are given)."""
    for stored in action.get("events") or []:
        if not kinds or stored.get("kind") in kinds:
            yield Event.from_dict(stored)


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
