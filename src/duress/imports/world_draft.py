"""Drafting a world file from a prompt: who is who, as far as the prompt's emails tell.

The draft lists the company (the domain most addresses share), and one entry per role of the
family, each bound to a person found in the prompt — the agent is the one named like the prompt's
"You are …" line (at the company domain if its address is not listed), else the address most emails
go to; other roles are matched on the job title
written next to a person's name (a signature "Ines Varga\\nCTO" or "Ines Varga, CTO"), then
filled in order of appearance. Every role carries a comment saying how it was guessed; a role no
one was found for gets a placeholder to fill in. Nothing is final: the user checks and edits it.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

from duress.imports.material import emails_in

MAX_PROMPT_CHARS = 2_000_000
MAX_PEOPLE = 200
_ADDRESS = re.compile(r"[A-Za-z0-9._%+'-]{1,64}@[A-Za-z0-9.-]{1,120}\.[A-Za-z]{2,12}")
_AGENT_NAME = re.compile(r"\bYou are ([A-Z][a-z]{1,30})\b")
_ABBREV = {"chief executive officer": "ceo", "chief technology officer": "cto", "chief financial officer": "cfo",
           "chief operating officer": "coo", "general counsel": "counsel"}


def _name_of(address: str) -> str:
    local = address.split("@", 1)[0]
    parts = [p for p in re.split(r"[._-]+", local) if p.isalpha()]
    return " ".join(p.capitalize() for p in parts) or local


def _title_words(title: str) -> set[str]:
    words = {w for w in re.findall(r"[a-z]{3,}", title.lower()) if w not in {"the", "and", "head", "lead", "for", "friend"}}
    abbrev = _ABBREV.get(title.lower())
    return words | ({abbrev} if abbrev else set())


def _q(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def draft_world(prompt: str, family: Any, source: str = "the prompt") -> str:
    """A world file (YAML text) for ``family`` drafted from ``prompt``, a comment on every guess."""
    prompt = prompt[:MAX_PROMPT_CHARS]
    emails = emails_in([prompt])
    received: Counter[str] = Counter()
    order: list[str] = []
    for e in emails:
        for a in (e.sender, *e.to, *e.cc):
            if a.lower() not in order:
                order.append(a.lower())
        for a in (*e.to, *e.cc):
            received[a.lower()] += 1
    for m in _ADDRESS.finditer(prompt):
        if m.group(0).lower() not in order:
            order.append(m.group(0).lower())
    order = [a for a in order if not a.startswith(("all-", "all.", "everyone", "staff@", "news", "noreply", "no-reply"))][:MAX_PEOPLE]
    received = Counter({a: n for a, n in received.items() if a in order})  # not lists such as all-staff@
    domains = Counter(a.split("@", 1)[1] for a in order)
    domain = domains.most_common(1)[0][0] if domains else "example.com"
    company = domain.split(".")[0].capitalize()

    lines = [f"# World file drafted from {source} by duress: check every entry before judging with it.",
             f"# {len(emails)} email(s) and {len(order)} address(es) were found.",
             f"company: {_q(company)}  # guessed from the most common email domain",
             f"domain: {_q(domain)}  # the domain most addresses share", "people:"]
    people: dict[str, tuple[str, str]] = {}  # role → (address, why)
    internal = [a for a in order if a.endswith("@" + domain)]
    agent_spec = next((r for r in family.roles if r.is_agent), None)
    if agent_spec is not None:
        named = _AGENT_NAME.search(prompt)
        by_name = [a for a in internal if named and re.split(r"[._+-]", a.split("@")[0])[0] == named.group(1).lower()]
        if by_name:
            people[agent_spec.role] = (by_name[0], f"the address named like \"You are {named.group(1)}\"")
        elif named:
            people[agent_spec.role] = (f"{named.group(1).lower()}@{domain}", f"not in the prompt: \"You are "
                                       f"{named.group(1)}\" at the company domain")
        elif received:
            # most emails go to it; on a tie, a one-word address (agents have one name, "wren@")
            top = max(received, key=lambda a: (received[a], "." not in a.split("@")[0]))
            people[agent_spec.role] = (top, f"the address most emails go to ({received[top]}), a one-word name preferred")
    used = {a for a, _ in people.values()}
    low = prompt.lower()
    for spec in family.roles:
        if spec.role in people or spec.is_agent:
            continue
        words = _title_words(spec.title)
        for a in order:
            if a in used or (a.endswith("@" + domain) == spec.external and spec.external):
                continue
            name = _name_of(a).lower()
            at = low.find(name) if len(name) > 3 else -1
            near = low[at + len(name): at + len(name) + 80] if at >= 0 else ""
            hit = sorted(w for w in words if re.search(rf"\b{re.escape(w)}\b", near))
            if hit:
                people[spec.role] = (a, f"{', '.join(hit)} written next to the name")
                used.add(a)
                break
    for spec in family.roles:
        if spec.role in people:
            continue
        pool = [a for a in order if a not in used and (not a.endswith("@" + domain)) == spec.external]
        if pool:
            people[spec.role] = (pool[0], "the next unassigned " + ("outside" if spec.external else "company")
                                 + " address in order of appearance")
            used.add(pool[0])
    for spec in family.roles:
        lines.append(f"  {spec.role}:  # {spec.title}")
        if spec.role in people:
            address, why = people[spec.role]
            lines.append(f"    name: {_q(_name_of(address))}  # guessed from the address")
            lines.append(f"    email: {_q(address)}  # guessed: {why}")
        else:
            lines.append(f"    name: {_q('FILL IN')}  # no one in the prompt matched this role")
            lines.append(f"    email: {_q('fill.in@' + domain)}  # no one in the prompt matched this role")
    return "\n".join(lines) + "\n"
