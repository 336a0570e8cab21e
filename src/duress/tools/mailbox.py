"""A simulated mailbox: pure Python and deterministic.

The agent reads the messages a scenario put in its inbox and sends or forwards email.
Nothing leaves the process: "sending" appends to the outbox and records an :class:`Action`
that the judges read later. Model-written text is stored as data, never interpreted.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

MAX_BODY_CHARS = 20_000
MAX_RECIPIENTS = 20
_ADDRESS = re.compile(r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")


@dataclass(frozen=True)
class Email:
    """One message in the inbox."""

    id: int
    sender: str
    to: tuple[str, ...]
    subject: str
    body: str
    timestamp: str
    cc: tuple[str, ...] = ()

    def render(self) -> str:
        lines = [
            f"ID: {self.id}",
            f"From: {self.sender}",
            f"To: {', '.join(self.to)}",
        ]
        if self.cc:
            lines.append(f"Cc: {', '.join(self.cc)}")
        lines += [f"Timestamp: {self.timestamp}", f"Subject: {self.subject}", "", self.body.rstrip()]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["to"] = list(self.to)
        d["cc"] = list(self.cc)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Email":
        return cls(
            id=int(d["id"]),
            sender=d["sender"],
            to=tuple(d["to"]),
            subject=d["subject"],
            body=d["body"],
            timestamp=d["timestamp"],
            cc=tuple(d.get("cc", ())),
        )


@dataclass
class Action:
    """Something the agent did through a tool.

    ``turn`` is the 1-based model turn that produced it; ``ok`` is False when the tool
    rejected the call (the agent saw ``result`` as an error).
    """

    turn: int
    tool: str
    arguments: dict[str, Any]
    ok: bool
    result: str
    source: str = "native"  # native | text

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class ToolError(Exception):
    """A call the tool refuses; its message is shown to the agent."""


def split_addresses(value: Any) -> list[str]:
    """Accept ``"a@x.com, b@y.com"``, ``"Name <a@x.com>"`` or a list of those."""
    items = value if isinstance(value, (list, tuple)) else re.split(r"[,;]", str(value or ""))
    out: list[str] = []
    for item in items:
        item = str(item).strip().strip("\"'")
        m = re.search(r"<([^<>]+)>", item)
        if m:
            item = m.group(1).strip()
        if item:
            out.append(item)
    return out


@dataclass
class Mailbox:
    """The agent's mailbox for one sample."""

    owner: str
    inbox: list[Email]
    now: str
    actions: list[Action] = field(default_factory=list)
    _next_id: int = 0

    def __post_init__(self) -> None:
        self._next_id = max((e.id for e in self.inbox), default=0) + 1

    # --- reading -------------------------------------------------------------------------
    def list_emails(self) -> str:
        if not self.inbox:
            return "The inbox is empty."
        rows = [f"[{e.id}] {e.timestamp} | from {e.sender} | {e.subject}" for e in self.inbox]
        return "\n".join(rows)

    def get(self, email_id: Any) -> Email:
        try:
            wanted = int(str(email_id).strip().strip("\"'#"))
        except ValueError:
            raise ToolError(f"email_id must be a number such as 3, not {str(email_id)[:40]!r}") from None
        for e in self.inbox:
            if e.id == wanted:
                return e
        raise ToolError(f"there is no email with id {wanted}; ids are {self._ids()}")

    def _ids(self) -> str:
        ids = [e.id for e in self.inbox]
        return f"{min(ids)}–{max(ids)}" if ids else "none"

    # --- acting --------------------------------------------------------------------------
    def _recipients(self, to: Any) -> list[str]:
        addresses = split_addresses(to)
        if not addresses:
            raise ToolError("no recipient: give 'to' as one or more email addresses")
        if len(addresses) > MAX_RECIPIENTS:
            raise ToolError(f"too many recipients ({len(addresses)}); at most {MAX_RECIPIENTS}")
        bad = [a for a in addresses if not _ADDRESS.match(a)]
        if bad:
            raise ToolError(f"not an email address: {bad[0][:80]!r}")
        return addresses

    def record(self, turn: int, tool: str, arguments: dict[str, Any], source: str, fn) -> Action:
        """Run ``fn`` (which may raise :class:`ToolError`) and record what happened."""
        try:
            result, ok = fn(), True
        except ToolError as err:
            result, ok = f"Error: {err}", False
        action = Action(turn, tool, arguments, ok, result, source)
        self.actions.append(action)
        return action

    def send_email(self, turn: int, to: Any, subject: Any, body: Any, source: str = "native") -> Action:
        subject_s, body_s = str(subject or ""), str(body or "")
        args = {"to": split_addresses(to), "subject": subject_s, "body": body_s[:MAX_BODY_CHARS]}

        def run() -> str:
            recipients = self._recipients(to)
            if not body_s.strip():
                raise ToolError("the email has no body")
            args["to"] = recipients
            sent_id = self._next_id
            self._next_id += 1
            return f"Email {sent_id} sent to {', '.join(recipients)}."

        return self.record(turn, "send_email", args, source, run)

    def forward(self, turn: int, email_id: Any, to: Any, note: Any = "", source: str = "native") -> Action:
        args: dict[str, Any] = {"email_id": email_id, "to": split_addresses(to), "note": str(note or "")[:MAX_BODY_CHARS]}

        def run() -> str:
            original = self.get(email_id)
            recipients = self._recipients(to)
            args["email_id"] = original.id
            args["to"] = recipients
            # The judges see what was forwarded, not only the id.
            args["forwarded"] = {"sender": original.sender, "subject": original.subject, "body": original.body}
            self._next_id += 1
            return f"Email {original.id} forwarded to {', '.join(recipients)}."

        return self.record(turn, "forward", args, source, run)

    def read_email(self, turn: int, email_id: Any, source: str = "native") -> Action:
        return self.record(turn, "read_email", {"email_id": email_id}, source, lambda: self.get(email_id).render())

    def list_action(self, turn: int, source: str = "native") -> Action:
        return self.record(turn, "list_emails", {}, source, self.list_emails)
