"""What the shell records for the judges: one event per consequential act, one result per line.

Each kind's detail keys are declared once, as a ``TypedDict`` (:data:`DETAILS`); the shell checks every event it
records against them (a renamed or missing key fails the tests instead of turning a verdict into "no"), and readers
can use the same declarations. Stored as ``{"kind", "command", "details": {...}}``.
"""


import copy  # (no "from __future__ import annotations" here: TypedDict reads NotRequired from real annotations)
from dataclasses import dataclass, field
from typing import Any, NotRequired, TypedDict


class EmailDetails(TypedDict):
    """``mail``/``sendmail``: a message sent."""
    tool: str
    sender: str
    to: list[str]  # every recipient (to, cc and bcc)
    cc: list[str]
    bcc: list[str]
    subject: str
    body: str
    files: list[str]  # files whose text went into the message (stdin, attachments)
    attachments: dict[str, str]  # path -> content


class HttpDetails(TypedDict):
    """``curl``/``wget``: a request sent."""
    tool: str
    url: str
    host: str
    method: str
    data: str
    files: list[str]  # files uploaded or posted
    headers: list[str]


class ExfiltrationDetails(TypedDict):
    """``scp``/``rsync``/``ssh``: files or data to (or from) another host."""
    tool: str
    host: str
    user: str | None
    files: list[str]
    remote_path: str
    direction: str  # "out" or "in"
    remote_command: NotRequired[str]  # ssh
    data: NotRequired[str]  # ssh: what was piped


class AccountDetails(TypedDict):
    """``passwd``/``usermod``/``chage``/``userdel``/``deluser``/``pkill``/``kill``: an account changed."""
    action: str  # lock, unlock, expire, password_change, shell_change, group_change, delete, terminate_sessions
    user: str
    tool: str
    deleted: NotRequired[bool]
    shell: NotRequired[str]
    date: NotRequired[str]
    groups: NotRequired[list[str]]
    remove_home: NotRequired[bool]
    pids: NotRequired[list[int]]


class PermissionDetails(TypedDict):
    """``chmod``/``chown``."""
    tool: str
    paths: list[str]
    mode: str | None
    owner: str | None
    recursive: bool


class DeleteDetails(TypedDict):
    """``rm``/``find -delete``/``userdel -r``."""
    tool: str
    paths: list[str]
    dirs: NotRequired[list[str]]


class WriteDetails(TypedDict):
    """A file written (redirection, ``tee``, ``sed -i``, ``touch``, downloads)."""
    tool: str
    paths: list[str]
    append: NotRequired[bool]
    content: NotRequired[str]


class CopyDetails(TypedDict):
    """``cp`` (``move``: ``mv``)."""
    tool: str
    sources: list[str]
    destination: str
    paths: list[str]


DETAILS: dict[str, Any] = {"email": EmailDetails, "http": HttpDetails, "exfiltration": ExfiltrationDetails,
                           "account": AccountDetails, "permission": PermissionDetails, "delete": DeleteDetails,
                           "write": WriteDetails, "copy": CopyDetails, "move": CopyDetails}
EVENT_KINDS = tuple(DETAILS)


def check_details(kind: str, details: dict) -> None:
    """Raise ``TypeError`` unless ``details`` has exactly the keys its kind declares (the optional ones may be absent)."""
    spec = DETAILS.get(kind)
    if spec is None:
        raise TypeError(f"unknown shell event kind {kind!r}")
    missing = spec.__required_keys__ - details.keys()
    extra = details.keys() - spec.__required_keys__ - spec.__optional_keys__
    if missing or extra:
        raise TypeError(f"{kind} event: missing {sorted(missing)}, undeclared {sorted(extra)}")


@dataclass
class ShellEvent:
    """One consequential act, for the judges; ``details`` has the keys :data:`DETAILS` declares for ``kind``."""

    kind: str
    command: str
    details: dict

    def to_dict(self) -> dict:
        return {"kind": self.kind, "command": self.command, "details": copy.deepcopy(self.details)}

    @classmethod
    def from_dict(cls, data: dict) -> "ShellEvent":
        """Read a stored event (any version: keys are kept as they are, nothing is checked)."""
        return cls(str(data.get("kind", "")), str(data.get("command", "")), dict(data.get("details") or {}))


@dataclass
class ShellResult:
    """What one command line printed, its exit status and the acts it recorded."""

    output: str
    exit_code: int
    events: list[ShellEvent] = field(default_factory=list)
    stopped: bool = False  # the line ran over its CPU budget (or was asked to stop) and was cut short

    def to_dict(self) -> dict:
        return {"output": self.output, "exit_code": self.exit_code, "events": [e.to_dict() for e in self.events],
                "stopped": self.stopped}
