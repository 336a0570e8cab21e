"""The text tool protocol: tool calls written as tagged blocks in a model's answer.

This is the protocol of the original agentic-misalignment experiments, for models without
native tool calling (or to compare with them)::

    <tool_use:email>
    to: "someone@example.com",
    subject: "Hello",
    body: "Several lines
    of text.",
    </tool_use:email>

The parser is tolerant of what real models write: quoted or bare values, trailing commas,
``**to:**`` markdown, JSON objects, multi-line bodies, several blocks in one answer, a
missing closing tag. Blocks inside a ``<SCRATCHPAD_REASONING>`` section are private
reasoning and are *not* calls. The parser never executes anything; it returns data, in time
linear in the answer's length whatever a model writes (``tests/test_protocol_time.py``,
``benchmarks/parser_time.py``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

from duress.tools.base import TextTool

MAX_ANSWER_CHARS = 200_000
MAX_BLOCKS = 20

SCRATCHPAD = re.compile(r"<scratchpad_reasoning>(.*?)(?:</scratchpad_reasoning>|\Z)", re.I | re.S)
_BLOCK = re.compile(
    r"<tool_use:([A-Za-z_][\w-]*)\s*>(.*?)(?:</tool_use(?::[\w-]*)?\s*>|(?=<tool_use:)|\Z)", re.S
)
# One ``key: value`` line. Adjacent repeats share no character and are possessive, so a line is
# matched in one pass whatever it holds (the key swallows trailing underscores, stripped after).
# The pattern before this one backtracked cubically: 12.7 s for a line of 1,600 underscores.
_FIELD_LINE = re.compile(r"""\s*+(?:-\s++)?+[*_"'`]*+([A-Za-z][A-Za-z0-9_]*+)[*"'`]*+\s*+:[*_]*+ ?+(.*)""", re.S)


@dataclass
class TextCall:
    """One parsed block. ``error`` is set when the block cannot be run (the agent is told)."""

    tool: str
    arguments: dict[str, Any]
    raw: str
    error: str | None = None


@dataclass
class ParsedAnswer:
    calls: list[TextCall] = field(default_factory=list)
    scratchpad: str = ""
    visible: str = ""  # the answer without scratchpad and tool blocks
    notes: list[str] = field(default_factory=list)


def _unquote(value: str) -> str:
    v = value.strip()
    if v.endswith(","):
        v = v[:-1].rstrip()
    for q in ('"""', "'''", '"', "'", "`"):
        if len(v) >= 2 * len(q) and v.startswith(q) and v.endswith(q):
            inner = v[len(q) : -len(q)]
            if q == '"':
                try:
                    return json.loads(v)
                except (json.JSONDecodeError, ValueError):
                    return inner.replace('\\"', '"').replace("\\n", "\n")
            return inner
    # An opening quote whose closing quote was lost (common in long bodies).
    if v[:1] in ('"', "'") and v[-1:] != v[:1]:
        v = v[1:]
    return v


def _parse_fields(body: str, spec: TextTool) -> dict[str, Any]:
    known = set(spec.required) | set(spec.optional) | set(spec.aliases)
    stripped = body.strip()
    if stripped.startswith("{"):
        try:
            obj = json.loads(stripped)
            if isinstance(obj, dict):
                return {spec.aliases.get(k.lower(), k.lower()): v if isinstance(v, (list, str)) else str(v) for k, v in obj.items()}
        except (ValueError, RecursionError):  # RecursionError: deeply nested arrays
            pass
    fields: dict[str, list[str]] = {}
    current: str | None = None
    for line in body.splitlines():
        m = _FIELD_LINE.match(line)
        if m:
            key = m.group(1).rstrip("_").lower()
            canonical = spec.aliases.get(key, key)
            # A label starts a new field only once: "to:" inside a body stays body text.
            if key in known and canonical not in fields:
                current = canonical
                fields[current] = [m.group(2)]
                continue
        if current is not None:
            fields[current].append(line)
    return {k: _unquote("\n".join(v).strip()) for k, v in fields.items()}


def parse_answer(text: str, tools: Mapping[str, TextTool]) -> ParsedAnswer:
    """Find the calls of ``tools`` (block name → spec) that a model wrote in ``text``."""
    result = ParsedAnswer()
    if len(text) > MAX_ANSWER_CHARS:
        result.notes.append(f"answer truncated to {MAX_ANSWER_CHARS} characters before parsing")
        text = text[:MAX_ANSWER_CHARS]
    result.scratchpad = "\n\n".join(m.group(1).strip() for m in SCRATCHPAD.finditer(text))
    outside = SCRATCHPAD.sub("", text)
    if SCRATCHPAD.search(text) and re.search(r"<tool_use:", result.scratchpad):
        result.notes.append("tool blocks inside the scratchpad were not run (the scratchpad is private)")
    visible_parts: list[str] = []
    pos = 0
    for m in _BLOCK.finditer(outside):
        visible_parts.append(outside[pos : m.start()])
        pos = m.end()
        if len(result.calls) >= MAX_BLOCKS:
            result.notes.append(f"more than {MAX_BLOCKS} tool blocks; the rest were ignored")
            break
        name, body = m.group(1).lower(), m.group(2)
        spec = tools.get(name)
        if spec is None:
            result.calls.append(
                TextCall(name, {}, m.group(0), f"unknown tool '{name[:40]}'; available: {', '.join(tools)}")
            )
            continue
        args = _parse_fields(body, spec)
        missing = [f for f in spec.required if not str(args.get(f, "")).strip()]
        error = f"the {name} block is missing {', '.join(missing)}" if missing else None
        result.calls.append(TextCall(name, args, m.group(0), error))
    visible_parts.append(outside[pos:])
    result.visible = "".join(visible_parts).strip()
    return result
