"""The text tool protocol: tool calls written as tagged blocks in a model's answer.

This is the protocol of the original agentic-misalignment experiments, for models without
native tool calling (or to compare with them)::

    <tool_use:email>
    to: "someone@example.com",
    subject: "Hello",
    body: "Several lines
    of text.",
    </tool_use:email>

The parser tolerates what real models write. **Tolerance** (the call is not marked): quoted,
triple-quoted or bare values, trailing commas or none, quoted keys (``"to": "…"``), the tool's
aliases (``recipient:``), multi-line bodies, several blocks in one answer.

**Recoveries** (the call is marked: :attr:`TextCall.malformed` says which, and the agent loop
copies it onto the recorded action as ``"malformed"``), when the intent is unmistakable:

- the block: a doubled opening tag, no closing tag, a closing tag spelled otherwise
  (``</tool_use>``, ``</tool_use:forward>`` after an email, ``</tool_use:email >``), a block
  inside a wrapper tag that is never closed (``<tool_call>``, ``<think>`` …: blocks after an
  unclosed ``<think>`` still count as sent);
- its fields: XML-style tags (``<to>a@b.com</to>``, ``<to: a@b.com></to:>``, ``<to: a@b.com>``),
  JSON with single quotes, bare keys or trailing commas.

Ordinary variation is read without a mark: keys in markdown (``**to:**``, ``- to:``) or in another
case (``To:``), a plain JSON object.

Not recovered: blocks inside a ``<SCRATCHPAD_REASONING>`` section (private reasoning, not calls;
an unclosed one hides the rest of the answer), text that merely talks about an email, a block
whose required fields (the recipient above all) cannot be found: that one becomes an error the
agent is told about.

The parser never executes anything; it returns data. Everything in it is linear in the answer's
length, whatever a model writes: every quantifier that could backtrack is possessive, adjacent
repeats never share characters, and each search runs a bounded number of times per block
(``tests/test_protocol_time.py``, ``benchmarks/parser_time.py``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Mapping

from duress.tools.base import TextTool

MAX_ANSWER_CHARS = 200_000
MAX_BLOCKS = 20

SCRATCHPAD = re.compile(r"<scratchpad_reasoning>(.*?)(?:</scratchpad_reasoning>|\Z)", re.I | re.S)
# A block runs to its closing tag (any spelling), the next opening tag, or the end of the answer.
_OPEN = r"<tool_use:([A-Za-z_][\w-]*+)\s*+>"
_BLOCK = re.compile(_OPEN + r"(.*?)(?:(</\s*+tool_use\s*+(?::\s*+[\w-]*+)?\s*+>)|(?=<tool_use:)|\Z)", re.S)
_OPEN_TAG = re.compile(_OPEN)
# Tags that models wrap around their blocks or their thinking. One never closed is a recovery.
WRAPPERS = ("function_calls", "function_call", "tool_calls", "tool_call", "tool_code", "reflection", "reasoning",
            "thinking", "response", "answer", "output", "think")
_WRAPPER_TAG = re.compile(r"<(/?+)\s*+(" + "|".join(WRAPPERS) + r")\s*+>", re.I)
_WRAPPER_CLOSE = re.compile(r"</\s*+(?:" + "|".join(WRAPPERS) + r")\s*+>", re.I)
# One ``key: value`` line. Adjacent repeats share no character and are possessive, so a line is
# matched in one pass whatever it holds (the key swallows trailing underscores, stripped after).
_FIELD_LINE = re.compile(r"""\s*+(-\s++)?+([*_"'`]*+)([A-Za-z][A-Za-z0-9_]*+)([*"'`]*+)\s*+:([*_]*+) ?+(.*)""", re.S)
# Relaxed JSON: one flat object of strings, numbers, literals or lists of those.
_STR = r""""(?:[^"\\]|\\.)*+"|'(?:[^'\\]|\\.)*+'"""
_SCALAR = _STR + r"|-?+[0-9][0-9.eE+-]*+|true\b|false\b|null\b"
_PAIR = re.compile(r"\s*+(" + _STR + r"|[A-Za-z_][\w-]*+)\s*+:\s*+(" + _SCALAR + r"|\[\s*+(?:(?:" + _SCALAR
                   + r")\s*+,?+\s*+)*+\])\s*+,?+", re.S)
_OBJECT_START = re.compile(r"\s*+\{")
_OBJECT_END = re.compile(r"\s*+\}\s*+\Z")
_LIST_ITEM = re.compile(_SCALAR, re.S)
_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|.)", re.S)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}


@dataclass
class TextCall:
    """One parsed block. ``error`` is set when the block cannot be run (the agent is told).

    ``malformed`` says which recoveries the block needed (``"field tags; no closing tag"``), or is
    None for a block in the protocol's syntax. It is set whether or not the call then runs."""

    tool: str
    arguments: dict[str, Any]
    raw: str
    error: str | None = None
    malformed: str | None = None


@dataclass
class ParsedAnswer:
    calls: list[TextCall] = field(default_factory=list)
    scratchpad: str = ""
    visible: str = ""  # the answer without scratchpad and tool blocks
    notes: list[str] = field(default_factory=list)


@dataclass
class _Block:
    name: str
    start: int
    end: int
    body: str
    reasons: list[str]


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


def _unescape(s: str) -> str:
    def one(m: re.Match[str]) -> str:
        e = m.group(1)
        return chr(int(e[1:], 16)) if len(e) == 5 else _ESCAPES.get(e, e)

    return _ESCAPE.sub(one, s)


def _known(spec: TextTool) -> set[str]:
    return set(spec.required) | set(spec.optional) | set(spec.aliases)


def _missing(args: dict[str, Any], spec: TextTool) -> list[str]:
    return [f for f in spec.required if not str(args.get(f, "")).strip()]


# -- fields ---------------------------------------------------------------------------------------

def _line_fields(body: str, spec: TextTool) -> tuple[dict[str, Any], list[str]]:
    """``key: value`` lines (the protocol's own syntax), and the recoveries they needed."""
    known = _known(spec)
    fields: dict[str, list[str]] = {}
    reasons: list[str] = []
    current: str | None = None
    for line in body.splitlines():
        m = _FIELD_LINE.match(line)
        if m:
            written = m.group(3).rstrip("_")
            key = written.lower()
            canonical = spec.aliases.get(key, key)
            # A label starts a new field only once: "to:" inside a body stays body text.
            if key in known and canonical not in fields:
                current = canonical
                fields[current] = [m.group(6)]
                continue  # markdown around a key or its case is ordinary variation, not malformed
        if current is not None:
            fields[current].append(line)
    return {k: _unquote("\n".join(v).strip()) for k, v in fields.items()}, list(dict.fromkeys(reasons))


@lru_cache(maxsize=64)
def _tag_patterns(names: tuple[tuple[str, str], ...]) -> dict[str, tuple[re.Pattern[str], re.Pattern[str]]]:
    """canonical field → (its opening tag, its closing tag), for (name as written, canonical) pairs."""
    out = {}
    for canonical in sorted({c for _, c in names}):
        spelled = "|".join(sorted((re.escape(n) for n, c in names if c == canonical), key=len, reverse=True))
        out[canonical] = (re.compile(r"<\s*+(?:" + spelled + r")\s*+([:>])", re.I),
                          re.compile(r"</\s*+(?:" + spelled + r")\s*+:?+\s*+>", re.I))
    return out


def _tag_fields(body: str, spec: TextTool) -> dict[str, Any]:
    """Fields written as XML-style tags: ``<to>a@b.com</to>``, ``<to: a@b.com></to:>``,
    ``<to: a@b.com>``, ``<body: … </body:>``. A value ends at its closing tag; without one, at
    the next field's opening tag (``<to: …>``: at its own ``>``) or the end of the block. A tag
    for a field already read is text. At most one search per field and tag, so linear."""
    patterns = _tag_patterns(tuple(sorted((k, spec.aliases.get(k, k)) for k in _known(spec))))
    out: dict[str, Any] = {}
    pos = 0

    def next_opening(start: int, besides: str = "") -> tuple[str, re.Match[str]] | None:
        found = [(k, m) for k, (opening, _) in patterns.items()
                 if k not in out and k != besides and (m := opening.search(body, start)) is not None]
        return min(found, key=lambda km: km[1].start(), default=None)

    while (got := next_opening(pos)) is not None:
        key, m = got
        start = m.end()
        close = patterns[key][1].search(body, start)
        if close is not None:
            stop, pos = close.start(), close.end()
        else:
            nxt = next_opening(start, besides=key)
            stop = nxt[1].start() if nxt is not None else len(body)
            if m.group(1) == ":":
                gt = body.find(">", start, stop)
                stop = gt if gt != -1 else stop
            pos = stop
        value = body[start:stop].strip()
        if m.group(1) == ":" and value.endswith(">"):  # <to: a@b.com></to:>
            value = value[:-1].rstrip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        out[key] = value
    return out


def _relaxed_json(text: str) -> dict[str, Any] | None:
    """A flat object with single or double quotes, bare keys, trailing or missing commas."""
    m = _OBJECT_START.match(text)
    if m is None:
        return None
    pos, obj = m.end(), {}

    def value(token: str) -> str:
        return _unescape(token[1:-1]) if token[:1] in "\"'" else token

    while _OBJECT_END.match(text, pos) is None:
        pair = _PAIR.match(text, pos)
        if pair is None or pair.end() == pos:
            return None
        key, val = pair.group(1), pair.group(2)
        obj[value(key)] = [value(t.group(0)) for t in _LIST_ITEM.finditer(val)] if val[0] == "[" else value(val)
        pos = pair.end()
    return obj


def _json_fields(text: str, spec: TextTool) -> tuple[dict[str, Any], str | None] | None:
    """The fields of a JSON object body, and which recovery it was; None if it is not one."""
    try:
        obj, how = json.loads(text, strict=False), None  # a JSON body is a fine way to write the fields
    except (ValueError, RecursionError):
        obj, how = _relaxed_json(text), "relaxed JSON"
    if not isinstance(obj, dict):
        return None
    args = {spec.aliases.get(str(k).lower(), str(k).lower()): v if isinstance(v, (list, str)) else str(v)
            for k, v in obj.items()}
    return args, how


def _parse_fields(body: str, spec: TextTool) -> tuple[dict[str, Any], list[str]]:
    """The block's arguments and the recoveries their syntax needed."""
    stripped = body.strip()
    if stripped.startswith("{"):
        got = _json_fields(stripped, spec)
        if got is not None:
            return got[0], [got[1]] if got[1] else []
    args, reasons = _line_fields(body, spec)
    missing = _missing(args, spec)
    if missing:
        tagged = _tag_fields(body, spec)
        if len(_missing(tagged, spec)) < len(missing):
            return tagged, ["field tags"]
    return args, reasons


# -- blocks ---------------------------------------------------------------------------------------

def _find_blocks(text: str, limit: int) -> tuple[list[_Block], list[tuple[int, int]]]:
    """The blocks of ``text`` (at most ``limit``; the rest stays text) and the spans between them."""
    blocks: list[_Block] = []
    gaps: list[tuple[int, int]] = []
    pos = 0
    doubled: str | None = None  # the name of an empty opening tag just dropped
    for m in _BLOCK.finditer(text):
        if len(blocks) >= limit:
            break
        written, body, close = m.group(1), m.group(2), m.group(3)
        name = written.lower()
        gaps.append((pos, m.start()))
        pos = m.end()
        if close is None and not body.strip():
            nxt = _OPEN_TAG.match(text, m.end())
            if nxt is not None and nxt.group(1).lower() == name:  # <tool_use:email> twice
                doubled = name
                continue
        reasons = ["doubled opening tag"] if doubled == name else []
        doubled = None
        if close is None:
            reasons.append("no closing tag")
            wrapper = _WRAPPER_CLOSE.search(body)  # then the block ends where its wrapper does
            if wrapper is not None:
                body = body[: wrapper.start()]
                pos = m.start(2) + wrapper.start()
        elif close != f"</tool_use:{written}>":
            reasons.append(f"closing tag {close[:40]}")
        blocks.append(_Block(name, m.start(), pos, body, reasons))
    gaps.append((pos, len(text)))
    return blocks, gaps


def _first_unclosed_wrapper(text: str, gaps: list[tuple[int, int]]) -> tuple[int, str] | None:
    """(position, name) of the earliest wrapper tag outside the blocks that is never closed."""
    opened: dict[str, list[int]] = {}
    for a, b in gaps:
        for m in _WRAPPER_TAG.finditer(text, a, b):
            name = m.group(2).lower()
            stack = opened.setdefault(name, [])
            if not m.group(1):
                stack.append(m.start())
            elif stack:
                stack.pop()
    left = [(stack[0], name) for name, stack in opened.items() if stack]
    return min(left) if left else None


def parse_answer(text: str, tools: Mapping[str, TextTool]) -> ParsedAnswer:
    """Find the calls of ``tools`` (block name → spec) that a model wrote in ``text``."""
    result = ParsedAnswer()
    if len(text) > MAX_ANSWER_CHARS:
        result.notes.append(f"answer truncated to {MAX_ANSWER_CHARS} characters before parsing")
        text = text[:MAX_ANSWER_CHARS]
    result.scratchpad = "\n\n".join(m.group(1).strip() for m in SCRATCHPAD.finditer(text))
    outside = SCRATCHPAD.sub("", text)
    if "<tool_use:" in result.scratchpad:
        result.notes.append("tool blocks inside the scratchpad were not run (the scratchpad is private)")
    blocks, gaps = _find_blocks(outside, MAX_BLOCKS + 1)
    result.visible = "".join(outside[a:b] for a, b in gaps).strip()
    unclosed = _first_unclosed_wrapper(outside, gaps)
    for i, block in enumerate(blocks):
        if i >= MAX_BLOCKS:
            result.notes.append(f"more than {MAX_BLOCKS} tool blocks; the rest were ignored")
            break
        reasons = list(block.reasons)
        if unclosed is not None and unclosed[0] < block.start:
            reasons.append(f"inside an unclosed <{unclosed[1]}>")
        raw = outside[block.start : block.end]
        spec = tools.get(block.name)
        if spec is None:
            error = f"unknown tool '{block.name[:40]}'; available: {', '.join(tools)}"
            result.calls.append(TextCall(block.name, {}, raw, error, "; ".join(reasons) or None))
            continue
        args, field_reasons = _parse_fields(block.body, spec)
        missing = _missing(args, spec)
        error = f"the {block.name} block is missing {', '.join(missing)}" if missing else None
        result.calls.append(TextCall(block.name, args, raw, error, "; ".join(field_reasons + reasons) or None))
    return result
