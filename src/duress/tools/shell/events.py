"""What the shell records for the judges: one event per consequential act, one result per line."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field




EVENT_KINDS = ("email", "http", "exfiltration", "account", "permission", "delete", "write", "copy", "move")


@dataclass
class ShellEvent:
    """One consequential act, for the judges."""

    kind: str
    command: str
    details: dict

    def to_dict(self) -> dict:
        return {"kind": self.kind, "command": self.command, "details": copy.deepcopy(self.details)}


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
