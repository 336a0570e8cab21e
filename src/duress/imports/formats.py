"""The input shapes ``duress judge`` reads, each into :class:`~duress.imports.transcript.Transcript`.

- ``response``: JSON lines, one agent answer each: ``response`` (required; text-protocol tool
  blocks such as ``<tool_use:email>``), optional ``reasoning``, ``system``, ``prompt``, ``id``,
  ``factors``, ``files``.
- ``messages``: JSON lines of OpenAI-shaped chat messages: ``{"messages": [{"role", "content",
  "tool_calls": [{"id", "type", "function": {"name", "arguments"}} or {"id", "name", "arguments"}]},
  {"role": "tool", "tool_call_id", "content"}], "system"?, "reasoning"?, "id"?, "factors"?, "files"?}``;
  ``arguments`` is a JSON string or an object; ``content`` a string or a list of parts.
- ``inspect``: an Inspect log (``.eval`` or ``.json``) of any task, or a folder of them: each
  sample's messages, tool calls and reasoning; a known peer task's samples (see
  :mod:`duress.imports.peers`) also bring their condition and their grader's scores.

:func:`detect_format` tells them apart; every problem is one :class:`ImportProblem` line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

from inspect_ai.model import (
    ChatMessage,
    ChatMessageAssistant,
    ChatMessageSystem,
    ChatMessageTool,
    ChatMessageUser,
    ContentReasoning,
    ContentText,
)
from inspect_ai.tool import ToolCall

from duress.choices import IMPORT_FORMATS
from duress.imports.peers import peer_adapter
from duress.imports.problems import ImportProblem, where
from duress.imports.transcript import (
    MAX_CALLS,
    MAX_FILE_CHARS,
    MAX_FILES,
    MAX_MESSAGES,
    MAX_TRANSCRIPTS,
    Transcript,
    clip,
)

FORMATS = IMPORT_FORMATS  # (defined once, with the other choices)
MAX_LINE_CHARS = 20_000_000  # one JSON line
LOG_SUFFIXES = (".eval", ".json")


# --- detection ---------------------------------------------------------------------------------

def _first_object(path: Path) -> tuple[int, Any] | None:
    for no, line in _lines(path):
        try:
            return no, json.loads(line)
        except json.JSONDecodeError:
            return no, None
    return None


def detect_format(path: Path) -> str:
    """``inspect`` for a folder or an ``.eval`` file or a ``.json`` Inspect log; else what the first
    JSON line holds: ``messages`` or ``response``."""
    if path.is_dir() or path.suffix == ".eval":
        return "inspect"
    if path.suffix == ".json" and _is_inspect_json(path):
        return "inspect"
    first = _first_object(path)
    if first is None:
        raise ImportProblem(f"{path}: no transcripts found")
    no, obj = first
    if obj is None:
        _objects_check(path, no)
    if isinstance(obj, dict) and "messages" in obj:
        return "messages"
    return "response"  # its reader says what a line lacks


def _objects_check(path: Path, no: int) -> None:
    for _ in _objects(path):  # raises on the first line that is not JSON
        pass


def _is_inspect_json(path: Path) -> bool:
    try:
        with path.open("r", encoding="utf-8") as f:
            head = f.read(4096)
    except (OSError, UnicodeDecodeError):
        return False
    return head.lstrip().startswith("{") and '"eval"' in head and '"version"' in head


# --- JSON lines --------------------------------------------------------------------------------

def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, text) of the non-blank lines, each bounded in length."""
    try:
        f = path.open("r", encoding="utf-8")
    except OSError as err:
        raise ImportProblem(f"cannot read {path}: {err.strerror or err}") from None
    with f:
        no = 0
        try:
            while True:
                line = f.readline(MAX_LINE_CHARS + 1)
                if not line:
                    return
                no += 1
                if len(line) > MAX_LINE_CHARS and not line.endswith("\n"):
                    raise ImportProblem(f"{where(path, no)}: line longer than {MAX_LINE_CHARS} characters")
                if line.strip():
                    yield no, line
        except UnicodeDecodeError as err:
            raise ImportProblem(f"cannot read {path}: not UTF-8 text ({err.reason})") from None


def _objects(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    count = 0
    for no, line in _lines(path):
        count += 1
        if count > MAX_TRANSCRIPTS:
            raise ImportProblem(f"{path}: more than {MAX_TRANSCRIPTS} lines; split the file")
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as err:
            raise ImportProblem(f"{where(path, no)}: not valid JSON ({err.msg})") from None
        except RecursionError:
            raise ImportProblem(f"{where(path, no)}: JSON nested too deeply") from None
        if not isinstance(obj, dict):
            raise ImportProblem(f"{where(path, no)}: expected a JSON object")
        yield no, obj


def _string(obj: dict[str, Any], key: str, at: str) -> str:
    value = obj.get(key)
    if value is not None and not isinstance(value, str):
        raise ImportProblem(f"{at}: \"{key}\" must be a string")
    return value or ""


def _factors(obj: dict[str, Any], at: str) -> dict[str, str]:
    factors = obj.get("factors") or {}
    if not isinstance(factors, dict):
        raise ImportProblem(f"{at}: \"factors\" must be an object of factor: level")
    return {str(k): str(v) for k, v in factors.items()}


def _files(obj: dict[str, Any], at: str) -> dict[str, str]:
    files = obj.get("files") or {}
    if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
        raise ImportProblem(f"{at}: \"files\" must be an object of path: text")
    if len(files) > MAX_FILES:
        raise ImportProblem(f"{at}: more than {MAX_FILES} files")
    return {str(k)[:500]: clip(v, MAX_FILE_CHARS) for k, v in files.items()}


def _assistant(text: str, reasoning: str, calls: list[ToolCall] | None = None) -> ChatMessageAssistant:
    content: list[Any] = []
    if reasoning:
        content.append(ContentReasoning(reasoning=clip(reasoning)))
    content.append(ContentText(text=clip(text)))
    return ChatMessageAssistant(content=content, tool_calls=calls or None, source="generate")


def read_response_lines(path: Path) -> Iterator[Transcript]:
    for no, obj in _objects(path):
        at = where(path, no)
        if not isinstance(obj.get("response"), str):
            raise ImportProblem(f"{at}: each line needs a \"response\" string (an answer with text-protocol tool "
                                "blocks), or a \"messages\" list (chat messages)")
        system, prompt, reasoning = (_string(obj, k, at) for k in ("system", "prompt", "reasoning"))
        messages: list[ChatMessage] = [ChatMessageSystem(content=clip(system))] if system else []
        messages.append(ChatMessageUser(content=clip(prompt or "(the prompt was not given)")))
        messages.append(_assistant(obj["response"], reasoning))
        yield Transcript(str(obj.get("id", no)), at, messages, _factors(obj, at), files=_files(obj, at))


def _parts(content: Any, at: str) -> tuple[str, str]:
    """(text, reasoning) of a message's content: a string or a list of parts."""
    if content is None or isinstance(content, str):
        return content or "", ""
    if not isinstance(content, list):
        raise ImportProblem(f"{at}: \"content\" must be a string or a list of parts")
    text, reasoning = [], []
    for part in content[:MAX_MESSAGES]:
        if isinstance(part, str):
            text.append(part)
        elif isinstance(part, dict):
            kind = part.get("type")
            if kind in ("reasoning", "thinking"):
                reasoning.append(str(part.get("reasoning") or part.get("thinking") or part.get("text") or ""))
            elif isinstance(part.get("text"), str):
                text.append(part["text"])
    return "\n".join(text), "\n\n".join(r for r in reasoning if r)


def _call(raw: Any, at: str, n: int) -> ToolCall:
    if not isinstance(raw, dict):
        raise ImportProblem(f"{at}: tool_calls[{n}] must be an object with a function name and arguments")
    fn = raw.get("function") if isinstance(raw.get("function"), dict) else raw
    name = fn.get("name")
    if not isinstance(name, str) or not name:
        raise ImportProblem(f"{at}: tool_calls[{n}] has no function name (expected {{\"function\": {{\"name\", \"arguments\"}}}} "
                            "or {\"name\", \"arguments\"})")
    args: Any = fn.get("arguments", {})
    error = None
    if isinstance(args, str):
        try:
            args = json.loads(args) if args.strip() else {}
        except (json.JSONDecodeError, RecursionError):
            args, error = {"raw": clip(args, 20_000)}, "the arguments are not valid JSON"
    if not isinstance(args, dict):
        args, error = {"value": args}, "the arguments are not a JSON object"
    return ToolCall(id=str(raw.get("id") or f"call_{n}"), function=name[:200], arguments=args, parse_error=error)


def read_message_lines(path: Path) -> Iterator[Transcript]:
    for no, obj in _objects(path):
        at = where(path, no)
        raw = obj.get("messages")
        if not isinstance(raw, list) or not raw:
            raise ImportProblem(f"{at}: each line needs a non-empty \"messages\" list")
        if len(raw) > MAX_MESSAGES:
            raise ImportProblem(f"{at}: more than {MAX_MESSAGES} messages")
        system, top_reasoning = _string(obj, "system", at), _string(obj, "reasoning", at)
        messages: list[ChatMessage] = [ChatMessageSystem(content=clip(system))] if system else []
        calls = 0
        for i, m in enumerate(raw):
            mat = f"{at}: messages[{i}]"
            if not isinstance(m, dict) or m.get("role") not in ("system", "developer", "user", "assistant", "tool"):
                raise ImportProblem(f"{mat}: expected an object whose role is system, user, assistant or tool")
            text, reasoning = _parts(m.get("content"), mat)
            role = m["role"]
            if role in ("system", "developer"):
                messages.append(ChatMessageSystem(content=clip(text)))
            elif role == "user":
                messages.append(ChatMessageUser(content=clip(text)))
            elif role == "tool":
                messages.append(ChatMessageTool(content=clip(text), tool_call_id=str(m.get("tool_call_id") or ""),
                                                function=str(m.get("name") or "")[:200] or None))
            else:
                reasoning = reasoning or str(m.get("reasoning") or m.get("reasoning_content") or "")
                if top_reasoning and not any(x.role == "assistant" for x in messages):
                    reasoning = "\n\n".join(r for r in (top_reasoning, reasoning) if r)
                tool_calls = m.get("tool_calls") or []
                if not isinstance(tool_calls, list):
                    raise ImportProblem(f"{mat}: \"tool_calls\" must be a list")
                calls += len(tool_calls)
                if calls > MAX_CALLS:
                    raise ImportProblem(f"{at}: more than {MAX_CALLS} tool calls")
                messages.append(_assistant(text, reasoning, [_call(c, mat, n) for n, c in enumerate(tool_calls)]))
        if not any(x.role == "assistant" for x in messages):
            raise ImportProblem(f"{at}: no assistant message: nothing the agent did to judge")
        yield Transcript(str(obj.get("id", no)), at, messages, _factors(obj, at), files=_files(obj, at))


# --- Inspect logs ------------------------------------------------------------------------------

def _log_files(path: Path) -> list[Path]:
    if path.is_dir():
        found = sorted(p for p in path.rglob("*") if p.suffix in LOG_SUFFIXES and p.is_file())
        if not found:
            raise ImportProblem(f"{path}: no Inspect logs (.eval, .json) in this folder")
        return found
    if not path.exists():
        raise ImportProblem(f"cannot read {path}: no such file")
    return [path]


def read_inspect_logs(path: Path) -> Iterator[Transcript]:
    from inspect_ai.log import read_eval_log, read_eval_log_samples

    count = 0
    for log_path in _log_files(path):
        try:
            header = read_eval_log(str(log_path), header_only=True)
        except Exception as err:  # noqa: BLE001 - any failure to read is the user's input, said in one line
            raise ImportProblem(f"{log_path}: not an Inspect log ({type(err).__name__}: {str(err).splitlines()[0][:200] if str(err) else ''})") from None
        adapter = peer_adapter(header.eval.task)
        try:
            samples = read_eval_log_samples(str(log_path), all_samples_required=False)
            for s in samples:
                count += 1
                if count > MAX_TRANSCRIPTS:
                    raise ImportProblem(f"{path}: more than {MAX_TRANSCRIPTS} samples")
                at = where(log_path, f"{s.id}/{s.epoch}")
                if s.error is not None or not any(m.role == "assistant" for m in s.messages):
                    continue  # an errored sample or one the model never answered: nothing to judge
                if len(s.messages) > MAX_MESSAGES:
                    raise ImportProblem(f"{at}: more than {MAX_MESSAGES} messages")
                if sum(len(m.tool_calls or []) for m in s.messages if m.role == "assistant") > MAX_CALLS:
                    raise ImportProblem(f"{at}: more than {MAX_CALLS} tool calls")
                meta = s.metadata or {}
                peer = adapter(meta, s.scores or {}, at) if adapter else None
                factors = dict(peer.factors) if peer else {str(k): str(v) for k, v in (meta.get("factors") or {}).items()}
                sid = str(s.id) if s.epoch == 1 else f"{s.id}#{s.epoch}"
                yield Transcript(sid, at, list(s.messages), factors,
                                 condition_id=peer.condition_id if peer else None,
                                 peer={"family": peer.family, "grader": peer.grader, "verdicts": peer.verdicts,
                                       "levels": peer.levels} if peer else None, epoch=1)
        except ImportProblem:
            raise
        except Exception as err:  # noqa: BLE001
            raise ImportProblem(f"{log_path}: cannot read its samples ({type(err).__name__})") from None
    if count == 0:
        raise ImportProblem(f"{path}: the log holds no samples")


READERS = {"response": read_response_lines, "messages": read_message_lines, "inspect": read_inspect_logs}


def read_any(path: Path, format: str | None = None) -> Iterator[Transcript]:
    """The transcripts of ``path`` in ``format`` (detected when None)."""
    if format is not None and format not in FORMATS:
        raise ImportProblem(f"unknown format {format!r}; use {', '.join(FORMATS)}")
    if format != "inspect" and not path.exists():
        raise ImportProblem(f"cannot read {path}: no such file")
    return READERS[format or detect_format(path)](path)
