"""The environment a transcript brings along: the emails its prompt lists, the documents its user
supplied. Pure text scanning, linear in the prompt's length, with bounded counts.

Emails are read in the original study's format (also what inspect-evals' agentic_misalignment
shows its agent)::

    <email>
    From: kim.ode@example.com
    To: quill@example.com
    Subject: …
    Timestamp: 2026-03-12T10:02:00
    Body: …
    </email>

Header lines may come in any order (``ID:``, ``Cc:`` optional); the body is what follows
``Body:``, or the first blank line. Emails are numbered 1, 2 … in the order listed (as the study's
``email_id`` counts them) unless they carry an ``ID:``. Documents are ``<document name="…">…
</document>`` blocks (how duress itself attaches files to a user turn).
"""

from __future__ import annotations

import re
from typing import Iterable

from duress.tools.mailbox import Email, split_addresses

MAX_EMAILS = 300
MAX_DOCUMENTS = 100
MAX_HEADER_LINES = 12

_HEADER = re.compile(r"([A-Za-z-]{2,12})[ \t]*:[ \t]?(.*)")
_DOC_OPEN = re.compile(r"<document\s+name\s*=\s*[\"']([^\"'<>\n]{1,200})[\"']\s*>")
_STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d)?")


def _blocks(text: str, open_tag: str, close_tag: str, limit: int) -> Iterable[tuple[int, str]]:
    """The contents of ``open_tag … close_tag`` blocks, in order (str.find: linear)."""
    pos, n = 0, 0
    while n < limit:
        start = text.find(open_tag, pos)
        if start < 0:
            return
        end = text.find(close_tag, start + len(open_tag))
        if end < 0:
            return
        yield start, text[start + len(open_tag):end]
        pos, n = end + len(close_tag), n + 1


def parse_email(block: str, number: int) -> Email | None:
    """One ``<email>`` block as an :class:`Email`, or None when it has no From line."""
    lines = block.strip("\n").split("\n")
    head: dict[str, str] = {}
    body_lines: list[str] = []
    for i, line in enumerate(lines):
        if i >= MAX_HEADER_LINES or not line.strip():
            body_lines = lines[i + 1:] if line.strip() == "" else lines[i:]
            break
        m = _HEADER.fullmatch(line.strip())
        if not m:
            body_lines = lines[i:]
            break
        key = m.group(1).lower()
        if key == "body":
            body_lines = [m.group(2)] + lines[i + 1:]
            break
        head[key] = m.group(2).strip()
    if "from" not in head:
        return None
    try:
        eid = int(head.get("id", "").strip() or number)
    except ValueError:
        eid = number
    stamp = head.get("timestamp", head.get("date", ""))
    return Email(id=eid, sender=(split_addresses(head["from"]) or [head["from"]])[0], to=tuple(split_addresses(head.get("to", ""))),
                 subject=head.get("subject", ""), body="\n".join(body_lines).strip() + "\n", timestamp=stamp,
                 cc=tuple(split_addresses(head.get("cc", ""))))


def emails_in(texts: Iterable[str]) -> list[Email]:
    """Every email the texts list, numbered in order across them (ids must stay unique)."""
    out: list[Email] = []
    seen: set[int] = set()
    for text in texts:
        for _, block in _blocks(text, "<email>", "</email>", MAX_EMAILS - len(out)):
            e = parse_email(block, len(out) + 1)
            if e is None:
                continue
            if e.id in seen:  # an ID header that repeats: fall back to the position
                e = Email(len(out) + 1, e.sender, e.to, e.subject, e.body, e.timestamp, e.cc)
            seen.add(e.id)
            out.append(e)
    return out


def documents_in(texts: Iterable[str]) -> dict[str, str]:
    """``<document name="…">`` blocks: name → text (a later block of the same name wins)."""
    docs: dict[str, str] = {}
    for text in texts:
        pos = 0
        while len(docs) < MAX_DOCUMENTS:
            m = _DOC_OPEN.search(text, pos)
            if not m:
                break
            end = text.find("</document>", m.end())
            if end < 0:
                break
            docs[m.group(1).strip()] = text[m.end():end].strip("\n") + "\n"
            pos = end + len("</document>")
    return docs


def session_time(emails: list[Email]) -> str:
    """The latest ISO timestamp among the emails (``YYYY-MM-DDTHH:MM[:SS]``), or ""."""
    stamps = [e.timestamp for e in emails if _STAMP.fullmatch(e.timestamp)]
    return max(stamps) if stamps else ""
