"""What the shell records for the judges: one event per consequential act, one result per line.

Each kind's detail keys are declared once, as a ``TypedDict`` (:data:`DETAILS`); the shell checks every event it
records against them (a renamed or missing key fails the tests instead of turning a verdict into "no"), and readers
can use the same declarations. Stored as ``{"kind", "command", "details": {...}}``.
"""


import copy
from dataclasses import dataclass, field
from typing import Any, NotRequired, TypedDict


# One TypedDict per kind (the functional form, so that each fits in a few lines); comments say who records it.
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
        return {**vars(self), "events": [e.to_dict() for e in self.events]}
