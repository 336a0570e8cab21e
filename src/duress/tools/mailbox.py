"""A simulated mailbox: pure Python and deterministic.

The agent reads the messages a scenario put in its inbox and sends or forwards email.
Nothing leaves the process: "sending" records an :class:`Action` that the judges read
later. Model-written text is stored as data, never interpreted.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from inspect_ai.tool import ToolDef

from duress.tools.base import Action, ActionLog, TextTool, ToolError, Toolset, raise_if_failed, register_toolset

MAX_BODY_CHARS = 20_000
# The names under which the mailbox records the messages it sends: every reader that asks "what did
# the agent send?" (the record, the families' detectors, the LLM judge) takes them from here.
SEND_EMAIL = "send_email"
FORWARD = "forward"
MESSAGE_TOOLS = (SEND_EMAIL, FORWARD)
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
        lines = [f"ID: {self.id}", f"From: {self.sender}", f"To: {', '.join(self.to)}"]
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
        return cls(id=int(d["id"]), sender=d["sender"], to=tuple(d["to"]), subject=d["subject"], body=d["body"],
                   timestamp=d["timestamp"], cc=tuple(d.get("cc", ())))


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


def check_recipients(to: Any) -> list[str]:
    addresses = split_addresses(to)
    if not addresses:
        raise ToolError("no recipient: give 'to' as one or more email addresses")
    if len(addresses) > MAX_RECIPIENTS:
        raise ToolError(f"too many recipients ({len(addresses)}); at most {MAX_RECIPIENTS}")
    bad = [a for a in addresses if not _ADDRESS.match(a)]
    if bad:
        raise ToolError(f"not an email address: {bad[0][:80]!r}")
    return addresses


EMAIL_BLOCK = TextTool(
    "email", ("to", "subject", "body"), ("cc",), {"message": "body", "recipient": "to", "recipients": "to"},
    example='To send an email:\n<tool_use:email>\nto: "recipient@example.com",\nsubject: "Subject line",\n'
            'body: "The message. It may span\nseveral lines.",\n</tool_use:email>',
)
FORWARD_BLOCK = TextTool(
    "forward", ("email_id", "to"), ("body",), {"id": "email_id", "note": "body", "message": "body", "recipient": "to"},
    example='To forward an email from your inbox, with an optional note above it:\n<tool_use:forward>\n'
            'email_id: 3\nto: "recipient@example.com",\nbody: "An optional note."\n</tool_use:forward>',
)


@register_toolset
class Mailbox(Toolset):
    """The agent's mailbox for one sample."""

    kind = "mailbox"
    text_tools = {"email": EMAIL_BLOCK, "forward": FORWARD_BLOCK}

    def __init__(self, owner: str, inbox: list[Email], now: str, log: ActionLog | None = None) -> None:
        super().__init__(log or ActionLog())
        self.owner = owner
        self.inbox = list(inbox)
        self.now = now
        self._next_id = max((e.id for e in self.inbox), default=0) + 1

    @classmethod
    def from_config(cls, config: dict[str, Any], log: ActionLog) -> "Mailbox":
        return cls(config["owner"], [Email.from_dict(e) for e in config["inbox"]], config["now"], log)

    @property
    def actions(self) -> list[Action]:
        return self.log.actions

    # --- reading -------------------------------------------------------------------------
    def list_emails(self) -> Action:
        def run() -> str:
            if not self.inbox:
                return "The inbox is empty."
            return "\n".join(f"[{e.id}] {e.timestamp} | from {e.sender} | {e.subject}" for e in self.inbox)

        return self.log.record("list_emails", {}, run)

    def get(self, email_id: Any) -> Email:
        try:
            wanted = int(str(email_id).strip().strip("\"'#"))
        except ValueError:
            raise ToolError(f"email_id must be a number such as 3, not {str(email_id)[:40]!r}") from None
        for e in self.inbox:
            if e.id == wanted:
                return e
        ids = [e.id for e in self.inbox]
        raise ToolError(f"there is no email with id {wanted}; ids are {min(ids)}–{max(ids)}" if ids else "the inbox is empty")

    def read_email(self, email_id: Any) -> Action:
        return self.log.record("read_email", {"email_id": email_id}, lambda: self.get(email_id).render())

    # --- acting --------------------------------------------------------------------------
    def send_email(self, to: Any, subject: Any, body: Any, cc: Any = None) -> Action:
        subject_s, body_s = str(subject or ""), str(body or "")
        args: dict[str, Any] = {"to": split_addresses(to), "subject": subject_s, "body": body_s[:MAX_BODY_CHARS]}
        if cc:
            args["cc"] = split_addresses(cc)

        def run() -> str:
            args["to"] = check_recipients(to)
            if cc:
                args["cc"] = check_recipients(cc)
            if not body_s.strip():
                raise ToolError("the email has no body")
            sent_id = self._next_id
            self._next_id += 1
            return f"Email {sent_id} sent to {', '.join(args['to'] + args.get('cc', []))}."

        return self.log.record(SEND_EMAIL, args, run)

    def forward(self, email_id: Any, to: Any, note: Any = "") -> Action:
        args: dict[str, Any] = {"email_id": email_id, "to": split_addresses(to), "note": str(note or "")[:MAX_BODY_CHARS]}

        def run() -> str:
            original = self.get(email_id)
            args["to"] = check_recipients(to)
            args["email_id"] = original.id
            # The judges see what was forwarded, not only the id.
            args["forwarded"] = {"sender": original.sender, "subject": original.subject, "body": original.body}
            self._next_id += 1
            return f"Email {original.id} forwarded to {', '.join(args['to'])}."

        return self.log.record(FORWARD, args, run)

    # --- protocols -------------------------------------------------------------------------
    def tool_defs(self) -> list[ToolDef]:
        async def list_emails() -> str:
            return raise_if_failed(self.list_emails())

        async def read_email(email_id: int) -> str:
            return raise_if_failed(self.read_email(email_id))

        async def send_email(to: str, subject: str, body: str) -> str:
            return raise_if_failed(self.send_email(to, subject, body))

        async def forward_email(email_id: int, to: str, note: str = "") -> str:
            return raise_if_failed(self.forward(email_id, to, note))

        to_doc = "Recipient address; several may be separated by commas."
        return [
            ToolDef(list_emails, name="list_emails", description="List the emails in your inbox (id, time, sender, subject).",
                    parameters={}),
            ToolDef(read_email, name="read_email", description="Read one email from your inbox.",
                    parameters={"email_id": "The id of the email, as shown by list_emails."}),
            ToolDef(send_email, name="send_email", description="Send an email. It is delivered at once.",
                    parameters={"to": to_doc, "subject": "Subject line.", "body": "The message text."}),
            ToolDef(forward_email, name="forward_email", description="Forward an email from your inbox, with an optional note.",
                    parameters={"email_id": "The id of the email to forward.", "to": to_doc,
                                "note": "An optional note placed above the forwarded message."}),
        ]

    def run_text(self, tool: str, arguments: dict[str, Any]) -> Action:
        if tool == "email":
            return self.send_email(arguments.get("to"), arguments.get("subject"), arguments.get("body"), arguments.get("cc"))
        return self.forward(arguments.get("email_id"), arguments.get("to"), arguments.get("body", ""))
