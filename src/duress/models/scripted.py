"""A scripted model provider for tests: ``scripted/<script>``.

Each test defines the replies. A script is a list of replies, one per model turn of a
sample (the n-th reply answers the n-th turn, so concurrent samples never interfere), or
a callable ``(messages, tools, config) -> reply`` for replies that depend on the prompt.
The last reply of a list repeats once the list is exhausted.

A reply is a string (the assistant's text) or a dict with any of:

- ``text``: the assistant's text;
- ``tool_calls``: ``[{"function": "send_email", "arguments": {...}}]``;
- ``bad_tool_call``: a tool name whose arguments could not be parsed (a malformed call);
- ``error``: raise an exception with this message (the sample errors);
- ``empty``: true for an empty completion;
- ``refusal``: true for a provider content-filter stop.

Scripts are registered in-process with :func:`register_script`, or named by a JSON file
path (``scripted/tests/fixtures/blackmailer.json``) holding either the list of replies or an
object ``{"replies": [...], "when": [{"contains": "TEXT", "replies": [...]}], "delay": 0.1}``:
the first ``when`` whose text occurs in the conversation chooses the replies, and ``delay``
seconds pass before each reply (to test interruptions).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any, Callable, Sequence, Union

from inspect_ai.model import (
    ChatCompletionChoice,
    ChatMessage,
    ChatMessageAssistant,
    GenerateConfig,
    ModelAPI,
    ModelOutput,
    ModelUsage,
)
from inspect_ai.tool import ToolCall, ToolChoice, ToolInfo

Reply = Union[str, dict[str, Any]]
Script = Union[Sequence[Reply], Callable[[list[ChatMessage], list[ToolInfo], GenerateConfig], Reply]]

_SCRIPTS: dict[str, Script] = {}


class ScriptedError(RuntimeError):
    """The error a script asked for."""


def register_script(name: str, script: Script) -> None:
    """Make ``scripted/<name>`` play ``script``."""
    _SCRIPTS[name] = script


def _load(name: str) -> Script:
    if name in _SCRIPTS:
        return _SCRIPTS[name]
    path = Path(name)
    if path.suffix == ".json" and path.is_file():
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict):
            return _conditional(data, path)
        if not isinstance(data, list) or not data:
            raise ValueError(f"script file {path} must hold a non-empty JSON list of replies, or an object")
        return data
    raise ValueError(
        f"no script named {name!r}: register it with duress.models.scripted.register_script "
        "or give the path of a .json file of replies"
    )


def _conditional(data: dict[str, Any], path: Path) -> Script:
    """A script from ``{"replies", "when", "delay"}`` (see the module docstring)."""
    default = data.get("replies")
    rules = data.get("when", [])
    if not isinstance(default, list) or not default or not all(isinstance(r.get("replies"), list) and r["replies"] for r in rules):
        raise ValueError(f"script file {path}: 'replies' and every when[].replies must be non-empty lists")
    delay = float(data.get("delay", 0))

    async def script(messages: list[ChatMessage], tools: list[ToolInfo], config: GenerateConfig) -> Reply:
        text = "\n".join(m.text for m in messages if m.role in ("system", "user"))
        replies = next((r["replies"] for r in rules if r["contains"] in text), default)
        if delay:
            await asyncio.sleep(delay)
        turn = sum(1 for m in messages if m.role == "assistant")
        return replies[min(turn, len(replies) - 1)]

    return script


def _output(model: str, reply: Reply) -> ModelOutput:
    if isinstance(reply, str):
        reply = {"text": reply}
    if reply.get("error"):
        raise ScriptedError(str(reply["error"]))
    text = "" if reply.get("empty") else str(reply.get("text", ""))
    calls = []
    for i, call in enumerate(reply.get("tool_calls", [])):
        calls.append(ToolCall(id=f"call_{i}", function=call["function"], arguments=dict(call.get("arguments", {}))))
    if reply.get("bad_tool_call"):
        calls.append(ToolCall(id="call_bad", function=str(reply["bad_tool_call"]), arguments={},
                              parse_error="the arguments were not valid JSON"))
    stop = "content_filter" if reply.get("refusal") else ("tool_calls" if calls else "stop")
    message = ChatMessageAssistant(content=text, tool_calls=calls or None, model=model, source="generate")
    usage = ModelUsage(input_tokens=0, output_tokens=len(text.split()), total_tokens=len(text.split()))
    return ModelOutput(model=model, choices=[ChatCompletionChoice(message=message, stop_reason=stop)], usage=usage)


class ScriptedModelAPI(ModelAPI):
    def __init__(self, model_name: str, base_url: str | None = None, api_key: str | None = None,
                 config: GenerateConfig = GenerateConfig(), **model_args: Any) -> None:
        super().__init__(model_name, base_url, api_key, [], config)
        self.script = _load(model_name)

    async def generate(self, input: list[ChatMessage], tools: list[ToolInfo], tool_choice: ToolChoice,
                       config: GenerateConfig) -> ModelOutput:
        if callable(self.script):
            reply = self.script(input, tools, config)
            if asyncio.iscoroutine(reply):
                reply = await reply
        else:
            turn = sum(1 for m in input if m.role == "assistant")
            reply = self.script[min(turn, len(self.script) - 1)]
        return _output(f"scripted/{self.model_name}", reply)

    async def count_text_tokens(self, text: str) -> int:
        return len(text.split())

    def max_connections(self) -> int:
        return 32
