"""What every simulated tool shares: actions, the action log, toolsets and their registry.

A *toolset* is one simulated system the agent can act on (the mailbox, the command line). It
offers Inspect tools for the ``native`` protocol and tagged blocks for the ``text`` protocol,
and records every call as an :class:`Action` in a shared :class:`ActionLog`. Families say
which toolsets a sample has, with their configuration, in the sample's metadata
(``environment``); the agent loop builds them from there through :data:`TOOLSETS`, so a new
family never touches the loop, and a new kind of tool is one class plus one registry line.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, ClassVar

from inspect_ai.tool import ToolDef


class ToolError(Exception):
    """A call the tool refuses; its message is shown to the agent."""


@dataclass
class Action:
    """Something the agent did through a tool.

    ``turn`` is the 1-based model turn that produced it and ``user_turn`` the 1-based user
    message it answered; ``ok`` is False when the tool rejected the call (the agent saw
    ``result`` as an error). ``events`` are the consequential acts a call caused (a shell
    command can send mail, post to a URL, lock an account …). ``malformed`` says which lenient
    recoveries the text-protocol parser needed to read the call (see :mod:`duress.protocol`); it is
    kept in the dict only when set, so well-formed calls are stored as before.
    """

    turn: int
    tool: str
    arguments: dict[str, Any]
    ok: bool
    result: str
    source: str = "native"  # native | text
    user_turn: int = 1
    events: list[dict[str, Any]] = field(default_factory=list)
    malformed: str | None = None
    clipped: dict[str, int] | None = None  # argument or event fields cut to MAX_RECORD_CHARS → original length
    recorded: str | None = None  # imported transcripts: the output the original harness recorded for the call

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for key in ("malformed", "clipped", "recorded"):
            if d[key] is None:
                del d[key]
        return d


MAX_RECORD_CHARS = 20_000  # a string kept in the record (an argument, an event field) at most


def clip_record(value: Any, path: str, clipped: dict[str, int]) -> Any:
    """``value`` with every string longer than :data:`MAX_RECORD_CHARS` cut, noting where and how long
    it was, so that what a model writes cannot bloat the record (and the log that stores it)."""
    if isinstance(value, str):
        if len(value) <= MAX_RECORD_CHARS:
            return value
        clipped[path] = len(value)
        return value[:MAX_RECORD_CHARS] + f" […clipped: {len(value)} characters]"
    if isinstance(value, dict):
        return {k: clip_record(v, f"{path}.{k}" if path else str(k), clipped) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clip_record(v, f"{path}[{i}]", clipped) for i, v in enumerate(value)]
    return value


class ActionLog:
    """The ordered actions of one sample, stamped with the current turns."""

    def __init__(self) -> None:
        self.actions: list[Action] = []
        self.turn = 1
        self.user_turn = 1
        self.source = "native"

    def record(self, tool: str, arguments: dict[str, Any], fn: Callable[[], Any]) -> Action:
        """Run ``fn`` (which may raise :class:`ToolError`) and record what happened.

        ``fn`` returns the result text, or (result text, events).
        """
        events: list[dict[str, Any]] = []
        try:
            out = fn()
            result, events = out if isinstance(out, tuple) else (out, [])
            ok = True
        except ToolError as err:
            result, ok = f"Error: {err}", False
        return self._append(Action(self.turn, tool, arguments, ok, str(result), self.source, self.user_turn, list(events)))

    def reject(self, tool: str, arguments: dict[str, Any], why: str) -> Action:
        """Record a call that could not even be made (malformed, unknown tool)."""
        return self._append(Action(self.turn, tool, arguments, False, f"Error: {why}", self.source, self.user_turn))

    def _append(self, action: Action) -> Action:
        clipped: dict[str, int] = {}
        action.arguments = clip_record(action.arguments, "arguments", clipped)
        action.events = clip_record(action.events, "events", clipped)
        action.result = clip_record(action.result, "result", clipped)
        action.clipped = clipped or None
        self.actions.append(action)
        return action


@dataclass(frozen=True)
class TextTool:
    """A tool block of the text protocol: ``<tool_use:NAME>`` with ``field: value`` lines."""

    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    aliases: dict[str, str] = field(default_factory=dict)
    example: str = ""  # the system-prompt text that teaches this block


class Toolset(ABC):
    """One simulated system, bound to one sample's action log."""

    kind: ClassVar[str]
    text_tools: ClassVar[dict[str, TextTool]]

    def __init__(self, log: ActionLog) -> None:
        self.log = log

    @classmethod
    @abstractmethod
    def from_config(cls, config: dict[str, Any], log: ActionLog) -> "Toolset": ...

    @abstractmethod
    def tool_defs(self) -> list[ToolDef]:
        """Inspect tools for the native protocol."""

    @abstractmethod
    def run_text(self, tool: str, arguments: dict[str, Any]) -> Action:
        """Run one parsed text-protocol block of one of ``text_tools``."""

    async def run_text_async(self, tool: str, arguments: dict[str, Any]) -> Action:
        """:meth:`run_text` for the agent loop. Cheap toolsets run inline; one whose calls can take
        long (the shell) runs them off the event loop, so other samples and signals get their turn."""
        return self.run_text(tool, arguments)

    def state(self) -> dict[str, Any]:
        """The toolset's final state, kept in the record (e.g. the filesystem after the run)."""
        return {}


def raise_if_failed(action: Action) -> str:
    """For native tools: an action the tool rejected becomes an Inspect tool error."""
    from inspect_ai.tool import ToolError as InspectToolError

    if not action.ok:
        raise InspectToolError(action.result.removeprefix("Error: "))
    return action.result


TOOLSETS: dict[str, type[Toolset]] = {}


def register_toolset(cls: type[Toolset]) -> type[Toolset]:
    TOOLSETS[cls.kind] = cls
    return cls


def build_environment(config: dict[str, dict[str, Any]]) -> tuple[ActionLog, list[Toolset]]:
    """The toolsets a sample's metadata asks for, sharing one action log."""
    import duress.tools  # noqa: F401  (registers the built-in toolsets)

    log = ActionLog()
    toolsets = []
    for kind, cfg in config.items():
        if kind not in TOOLSETS:
            raise ValueError(f"unknown toolset {kind!r}; known: {', '.join(TOOLSETS)}")
        toolsets.append(TOOLSETS[kind].from_config(cfg, log))
    return log, toolsets


def text_tools_of(kinds: list[str]) -> dict[str, TextTool]:
    import duress.tools  # noqa: F401

    out: dict[str, TextTool] = {}
    for kind in kinds:
        out.update(TOOLSETS[kind].text_tools)
    return out


def text_instructions(kinds: list[str]) -> str:
    """The system-prompt text that teaches the text protocol for these toolsets."""
    tools = text_tools_of(kinds)
    parts = [
        "You act by writing tool blocks in your answer. Each block is run when your answer ends, "
        "in the order written. The format is exact:"
    ]
    parts += [t.example for t in tools.values() if t.example]
    return "\n\n".join(parts)
