"""The agent loop: the model acts on simulated tools through one of two protocols.

- ``native``: Inspect tool calls, several model turns per user message until the agent
  answers without a tool call or the turn limit is reached.
- ``text``: the tools are described in the system prompt and the agent writes tagged blocks
  (see :mod:`duress.protocol`). One model turn per user message by default, as in the
  original experiments; with ``max_turns`` > 1 the tool results are shown to the agent and
  it may go on.

The tools come from the sample's scenario, which the task hands the loop as a function of the
sample's metadata (``scenario=``, :func:`duress.scenarios.sample_scenario` for duress's tasks), so
the loop imports no family: ``environment`` maps toolset kind → configuration, see
:mod:`duress.tools.base`); a scenario may hold several user messages (``user_turns``, after the
sample's input), given one after the other. Every action, including malformed
calls, is recorded with its model turn and user turn in the sample's metadata
(``duress:record``, with the episode's status in ``duress:status``), which is what the judges
read and what the log keeps: see :meth:`Episode.save` and :mod:`duress.record`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from inspect_ai.model import (
    CachePolicy,
    ChatMessageAssistant,
    ChatMessageSystem,
    ChatMessageUser,
    GenerateConfig,
    ModelOutput,
    execute_tools,
    get_model,
)
from inspect_ai.solver import Generate, Solver, TaskState, solver

from duress.choices import PROTOCOLS
from duress.protocol import SCRATCHPAD, parse_answer
from duress.record import ActionRecord, Turn, save_episode
from duress.tools.base import Action, ActionLog, Toolset, build_environment



def check_protocol(protocol: str, auto: bool = True) -> str:
    """``protocol`` itself if it is one of :data:`PROTOCOLS` (or ``auto``, when allowed); else ValueError."""
    if protocol in PROTOCOLS or (auto and protocol == "auto"):
        return protocol
    choices = ("auto",) * auto + PROTOCOLS
    raise ValueError(f"unknown protocol {protocol!r}; use {', '.join(choices[:-1])} or {choices[-1]}")


def default_protocol(model_name: str) -> str:
    """``text`` for the embedded model (too small for native tool calls), ``native`` otherwise."""
    return "text" if model_name.startswith("local/") else "native"


def resolve_protocol(protocol: str) -> str:
    """``auto`` → the default for the model being evaluated; otherwise ``protocol`` itself."""
    if check_protocol(protocol) == "auto":
        return default_protocol(str(get_model()))
    return protocol


def default_max_turns(protocol: str) -> int:
    """Model turns per user message: 1 for text (as in the original experiments), 10 native."""
    return 1 if protocol == "text" else 10


def sample_seed(seed: int, sample_id: Any, epoch: int) -> int:
    """A per-sample generation seed: stable for (seed, sample, epoch), distinct across epochs."""
    digest = hashlib.sha256(f"{seed}|{sample_id}|{epoch}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def _reasoning_blocks(message: ChatMessageAssistant) -> list[Any]:
    content = message.content if isinstance(message.content, list) else []
    return [c for c in content if getattr(c, "type", None) == "reasoning"]


def split_reasoning(message: ChatMessageAssistant) -> tuple[str, str]:
    """(reasoning, visible text) of one assistant message, live or imported: the provider's reasoning as far as it
    can be read (a redacted block's summary only: its text is encrypted; otherwise its text, or its summary when it
    has none), then the scratchpad; the visible text is the rest, without the scratchpad."""
    reasoning = [(c.summary or "") if c.redacted else (c.reasoning or c.summary or "")
                 for c in _reasoning_blocks(message)]
    text = message.text or ""
    reasoning += [m.group(1).strip() for m in SCRATCHPAD.finditer(text)]
    return "\n\n".join(r for r in reasoning if r), SCRATCHPAD.sub("", text).strip()


class SampleScenario(Protocol):
    """What the loop needs of a sample's scenario: its system prompt, later user turns and environment."""

    system: str
    user_turns: list[str]
    environment: dict[str, dict[str, Any]]


ScenarioOf = Callable[[Mapping[str, Any], str], SampleScenario]  # (sample metadata, protocol) → its scenario


@dataclass
class _Given:
    system: str
    user_turns: list[str]
    environment: dict[str, dict[str, Any]]


def given_scenario(metadata: Mapping[str, Any]) -> SampleScenario:
    """The scenario a sample's metadata carries itself (imported transcripts): no system prompt of its own."""
    if "environment" not in metadata:
        raise ValueError("this sample's metadata has no environment: give the loop a scenario "
                         "(agent_loop(scenario=duress.scenarios.sample_scenario))")
    return _Given("", list(metadata.get("user_turns", [])), metadata["environment"])


class Episode:
    """One sample's run: the toolsets, the log, the turns, and how to save them."""

    def __init__(self, metadata: dict[str, Any], protocol: str, scenario_of: ScenarioOf | None = None) -> None:
        self.log: ActionLog
        self.toolsets: list[Toolset]
        self.scenario = scenario_of(metadata, protocol) if scenario_of is not None else given_scenario(metadata)
        self.log, self.toolsets = build_environment(self.scenario.environment)
        self.log.source = protocol
        self.turns: list[Turn] = []
        self.status: dict[str, Any] = {"content_filter": False, "turns": 0, "protocol": protocol, "empty_turns": []}
        self.text_tools = {name: ts for ts in self.toolsets for name in ts.text_tools}
        self.text_specs = {name: spec for ts in self.toolsets for name, spec in ts.text_tools.items()}

    async def run_text_call(self, call: Any) -> Action:
        """Run one parsed text-protocol block on its toolset (or record why it could not run)."""
        if call.error:
            action = self.log.reject(call.tool, call.arguments, call.error)
        else:
            action = await self.text_tools[call.tool].run_text_async(call.tool, call.arguments)
        if call.malformed:  # read leniently: the record says how (judges and reports count these)
            action.malformed = call.malformed
        return action

    def save(self, state: TaskState) -> None:
        """Keep the record once, at the end (without the inbox, which the sample's scenario gives:
        see :func:`duress.judges.record.inbox_of`); a sample that errors before is excluded anyway.

        The record goes in the sample's metadata, not its store: Inspect logs the store's changes
        again at the end of every enclosing span and copies the whole store at each span's start
        and end, which made the store the costliest place for it (benchmarks/README.md)."""
        record = ActionRecord([a.to_dict() for a in self.log.actions], self.turns, [],
                              {ts.kind: ts.state() for ts in self.toolsets})
        save_episode(state.metadata, record, self.status)


@solver
def agent_loop(protocol: str = "auto", max_turns: int | None = None, seed: int = 0, cache: bool = False,
               epoch_offset: int = 0, scenario: ScenarioOf | None = None) -> Solver:
    """Run the agent on the sample's simulated tools and record what it does.

    The scenario's system prompt (rendered for the protocol) goes in front of the sample's input,
    unless a solver before this one already put a system message there.

    Args:
      protocol: ``native`` (Inspect tool calls), ``text`` (tagged blocks in the answer) or
        ``auto`` (text for the embedded model, native for every other provider).
      max_turns: model turns per user message at most (default: 1 for text, 10 for native).
      seed: mixed with the sample id and epoch into the generation seed of each sample.
      cache: reuse cached model responses (Inspect's cache) so a rerun gives identical numbers.
      epoch_offset: added to Inspect's epoch in the generation seed (later rounds of a sequential run).
      scenario: rebuilds a sample's scenario from its metadata (duress's tasks pass
        :func:`duress.scenarios.sample_scenario`; the loop itself knows no family). Without it, the
        sample's metadata must carry its environment.
    """
    check_protocol(protocol)
    if max_turns is not None and max_turns < 1:
        raise ValueError("max_turns must be at least 1")

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        proto = resolve_protocol(protocol)
        limit = max_turns or default_max_turns(proto)
        ep = Episode(state.metadata, proto, scenario)
        if not any(m.role == "system" for m in state.messages):  # a solver before may have set its own
            state.messages.insert(0, ChatMessageSystem(content=ep.scenario.system))
        model = get_model()
        config = GenerateConfig(seed=sample_seed(seed, state.sample_id, state.epoch + epoch_offset))
        policy: CachePolicy | bool = CachePolicy(expiry=None, per_epoch=True) if cache else False
        tools = [d for ts in ep.toolsets for d in ts.tool_defs()] if proto == "native" else []
        tool_names = {t.name for t in tools}
        later_turns: list[str] = ep.scenario.user_turns

        for user_turn in range(1, len(later_turns) + 2):
            if user_turn > 1:
                state.messages.append(ChatMessageUser(content=later_turns[user_turn - 2]))
            ep.log.user_turn = user_turn
            for _ in range(limit):
                ep.status["turns"] += 1
                ep.log.turn = ep.status["turns"]
                output: ModelOutput = await model.generate(state.messages, tools, config=config, cache=policy)
                state.output = output
                state.messages.append(output.message)
                refused = output.stop_reason == "content_filter"
                ep.status["content_filter"] |= refused
                if not refused and not (output.message.text or "").strip() and not output.message.tool_calls \
                        and not any(c.reasoning or c.summary for c in _reasoning_blocks(output.message)):
                    ep.status["empty_turns"].append(ep.log.turn)  # a defective completion: the sample is excluded
                if proto == "native":
                    more = await _native_step(ep, state, output.message, tools, tool_names)
                else:
                    more = await text_step(ep, state, output.message)
                if refused or not more:
                    break
            if ep.status["content_filter"]:
                break
        ep.save(state)
        return state

    return solve


async def _native_step(ep: Episode, state: TaskState, message: ChatMessageAssistant, tools: list,
                       names: set[str]) -> bool:
    """Run the tool calls of one native turn; True when the agent called a tool (so it may go on)."""
    reasoning, visible = split_reasoning(message)
    ep.turns.append(Turn(ep.log.turn, reasoning, visible, ep.log.user_turn))
    calls = message.tool_calls or []
    for call in calls:
        if call.parse_error or call.function not in names:
            ep.log.reject(call.function, dict(call.arguments or {}), call.parse_error or f"unknown tool '{call.function}'")
    if not calls:
        return False
    executed = await execute_tools(state.messages, tools)
    state.messages.extend(executed.messages)
    return True


async def text_step(ep: Episode, state: TaskState, message: ChatMessageAssistant) -> bool:
    """Parse and run the blocks of one text turn; True when there were blocks (results are shown)."""
    parsed = parse_answer(message.text or "", ep.text_specs)
    reasoning, _ = split_reasoning(message)
    ep.turns.append(Turn(ep.log.turn, reasoning, parsed.visible, ep.log.user_turn))  # provider's and scratchpad
    feedback = []
    for call in parsed.calls:
        action = await ep.run_text_call(call)
        feedback.append(f"[{call.tool}] {action.result}")
    feedback += [f"Note: {n}" for n in parsed.notes]
    if not parsed.calls:
        return False
    # Shown to the agent if it has another turn; kept in the transcript either way.
    state.messages.append(ChatMessageUser(content="Results of your tool calls:\n" + "\n".join(feedback)))
    return True
