"""Which foreign tool is which of duress's: built-in names, plus a small YAML file.

A foreign tool call is replayed on a duress tool when its name is known:

==============  =====================================================================
duress target   foreign names (built in)
==============  =====================================================================
send_email      send_email, sendEmail, email, send_mail, sendMail
forward         forward, forward_email, forwardEmail
read_email      read_email, readEmail;  list_emails: list_emails, listEmails
shell           bash, shell, execute_command, executeCommand, run_command, runCommand,
                run_shell, exec, terminal
write_log       write_log, writeLog, writeLogs, write_logs, log
==============  =====================================================================

Arguments are matched by name: the target's own names, then common aliases (``recipient`` →
``to``, ``message``/``content`` → ``body``, ``cmd`` → ``command``, ``logData`` → ``text`` …).
A YAML file adds names or overrides them::

    tools:
      contactAuthorities:        # the foreign tool's name
        to: send_email           # send_email | forward | read_email | list_emails | shell | write_log | unmapped
        args:                    # foreign argument → duress argument
          agency: to
          report: body

Any other tool is kept in the record as an ``unmapped`` action (its name, arguments and recorded
output): the LLM judge sees it and the report counts it; nothing is dropped. ``write_log`` is a
note written to a log inside the company: it is recorded as it was and reaches nobody, so it is
neither a contact nor an escalation (as a native agent's ``echo … >> notes.log`` would not be).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping


from duress.imports.problems import ImportProblem
from duress.yamlfile import read_yaml

MAX_TOOL_ENTRIES = 500

# target → its arguments, each with the aliases accepted for it (the first is the canonical name)
TARGETS: dict[str, dict[str, tuple[str, ...]]] = {
    "send_email": {"to": ("to", "recipient", "recipients", "address", "email", "to_address"),
                   "subject": ("subject", "title", "subject_line"),
                   "body": ("body", "message", "content", "text", "email_body"),
                   "cc": ("cc",)},
    "forward": {"email_id": ("email_id", "id", "emailId", "message_id", "messageId"),
                "to": ("to", "recipient", "recipients", "address"),
                "note": ("note", "body", "message", "comment")},
    "read_email": {"email_id": ("email_id", "id", "emailId", "message_id")},
    "list_emails": {},
    "shell": {"command": ("command", "cmd", "commands", "script", "input", "code")},
    "write_log": {"log": ("log", "logName", "log_name", "name", "logType", "log_type", "file"),
                  "text": ("text", "logData", "log_data", "message", "content", "data", "entry")},
    "unmapped": {},
}

DEFAULT_NAMES: dict[str, str] = {
    **dict.fromkeys(("send_email", "sendEmail", "email", "send_mail", "sendMail"), "send_email"),
    **dict.fromkeys(("forward", "forward_email", "forwardEmail"), "forward"),
    **dict.fromkeys(("read_email", "readEmail"), "read_email"),
    **dict.fromkeys(("list_emails", "listEmails"), "list_emails"),
    **dict.fromkeys(("bash", "shell", "execute_command", "executeCommand", "run_command", "runCommand", "run_shell",
                     "exec", "terminal"), "shell"),
    **dict.fromkeys(("write_log", "writeLog", "writeLogs", "write_logs", "log"), "write_log"),
}


@dataclass(frozen=True)
class Mapped:
    target: str  # one of TARGETS
    arguments: dict[str, Any]  # the target's argument names → values


@dataclass(frozen=True)
class ToolMap:
    names: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_NAMES))
    args: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # foreign tool → foreign arg → duress arg

    def resolve(self, name: str, arguments: Mapping[str, Any]) -> Mapped:
        """The duress target of one call, with its arguments renamed (``unmapped`` if unknown)."""
        target = self.names.get(name, "unmapped")
        if target == "unmapped":
            return Mapped("unmapped", dict(arguments))
        own = self.args.get(name, {})
        out: dict[str, Any] = {}
        for key, value in arguments.items():
            if key in own and own[key] not in out:
                out[own[key]] = value
        for canonical, aliases in TARGETS[target].items():
            if canonical in out:
                continue
            for alias in aliases:
                if alias in arguments and alias not in own:
                    out[canonical] = arguments[alias]
                    break
        return Mapped(target, out)


def load_tool_map(path: Path | None) -> ToolMap:
    """The built-in map, with the YAML file's entries (see the module) added over it."""
    if path is None:
        return ToolMap()
    data = read_yaml(path, "tools file", ImportProblem)
    if not isinstance(data, dict) or not isinstance(data.get("tools"), dict) or set(data) - {"tools"}:
        raise ImportProblem(f"tools file {path}: expected a mapping with one key, tools: {{NAME: {{to: TARGET, args: {{...}}}}}}")
    if len(data["tools"]) > MAX_TOOL_ENTRIES:
        raise ImportProblem(f"tools file {path}: more than {MAX_TOOL_ENTRIES} tools")
    names, args = dict(DEFAULT_NAMES), {}
    for name, entry in data["tools"].items():
        if isinstance(entry, str):
            entry = {"to": entry}
        if not isinstance(entry, dict) or set(entry) - {"to", "args"} or entry.get("to") not in TARGETS:
            raise ImportProblem(f"tools file {path}: tools.{name}: expected {{to: TARGET, args: {{foreign: duress}}}} "
                                f"with TARGET one of {', '.join(TARGETS)}")
        mapping = entry.get("args") or {}
        target = entry["to"]
        if not isinstance(mapping, dict) or any(v not in TARGETS[target] for v in mapping.values()):
            known = ", ".join(TARGETS[target]) or "none"
            raise ImportProblem(f"tools file {path}: tools.{name}.args: each foreign argument maps to one of "
                                f"{target}'s arguments ({known})")
        names[str(name)] = target
        args[str(name)] = {str(k): str(v) for k, v in mapping.items()}
    return ToolMap(names, args)
