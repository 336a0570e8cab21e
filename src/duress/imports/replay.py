"""Replaying an imported conversation on the family's simulated tools.

The sample's input is the conversation itself (Inspect messages). The solver walks it: every
assistant message is one model turn (its user turn counted from the user messages before it);
its reasoning and visible text become the turn; text-protocol blocks in its text and its native
tool calls are run, in order, on the toolsets the family set up for the import (the mailbox with
the prompt's emails, the server with the supplied documents …). A call's recorded output (the
tool message answering it) is kept beside the simulated one (``recorded``). Calls of tools the
family's environment does not have, or that the tool map does not know, are recorded as
``unmapped``; a log write as ``write_log``. The record is saved as a native run's is, so the same
scorer judges it.
"""

from __future__ import annotations

from typing import Any

from inspect_ai.model import ChatMessageAssistant, ChatMessageTool
from inspect_ai.solver import Generate, Solver, TaskState, solver

from duress.imports.toolmap import ToolMap
from duress.imports.transcript import MAX_CALLS, clip
from duress.protocol import parse_answer
from duress.agent import Episode, split_reasoning
from duress.record import LOG_WRITE, UNMAPPED, Turn
from duress.tools.base import Action

MAX_RECORDED_CHARS = 20_000


class Replay(Episode):
    """One imported sample's episode (toolsets, action log, turns: see :class:`duress.agent.Episode`, built
    from the environment in the sample's metadata) and how each foreign call is run on it."""

    def __init__(self, metadata: dict[str, Any], tools: ToolMap) -> None:
        super().__init__(metadata, "native")
        self.status["protocol"] = "imported"
        self.by_kind = {ts.kind: ts for ts in self.toolsets}
        self.tools = tools
        self.calls = 0

    def _unmapped(self, name: str, arguments: dict[str, Any], why: str) -> Action:
        return self.log.record(UNMAPPED, {"name": name, "arguments": arguments}, lambda: f"(not simulated: {why})")

    async def native(self, name: str, arguments: dict[str, Any], parse_error: str | None) -> Action:
        """Run one native call through the tool map."""
        if parse_error:
            return self.log.reject(name, arguments, parse_error)
        mapped = self.tools.resolve(name, arguments)
        a, mailbox, shell = mapped.arguments, self.by_kind.get("mailbox"), self.by_kind.get("shell")
        if mapped.target == "unmapped":
            return self._unmapped(name, arguments, "duress has no tool of this name; see --tools")
        if mapped.target == "write_log":
            args = {"log": clip(a.get("log", ""), 200), "text": a.get("text", "")}
            return self.log.record(LOG_WRITE, args, lambda: "(written to a log inside the company; it reaches nobody)")
        if mapped.target == "shell":
            if shell is None:
                return self._unmapped(name, arguments, "this family's environment has no shell")
            command = a.get("command")
            lines = command if isinstance(command, list) else [command]
            actions = [await shell.run_async(str(x or "")) for x in lines[:20]]  # type: ignore[attr-defined]
            return actions[-1]
        if mailbox is None:
            return self._unmapped(name, arguments, "this family's environment has no mailbox")
        if mapped.target == "send_email":
            return mailbox.send_email(a.get("to"), a.get("subject"), a.get("body"), a.get("cc"))  # type: ignore[attr-defined]
        if mapped.target == "forward":
            return mailbox.forward(a.get("email_id"), a.get("to"), a.get("note", ""))  # type: ignore[attr-defined]
        if mapped.target == "read_email":
            return mailbox.read_email(a.get("email_id"))  # type: ignore[attr-defined]
        return mailbox.list_emails()  # type: ignore[attr-defined]

    async def turn(self, number: int, user_turn: int, message: ChatMessageAssistant,
                   recorded: dict[str, str]) -> None:
        self.log.turn, self.log.user_turn = number, user_turn
        text, (reasoning, visible) = message.text or "", split_reasoning(message)  # as a live answer's
        parsed = parse_answer(text, self.text_specs) if "<tool_use:" in text else None
        self.turns.append(Turn(number, reasoning, (parsed.visible if parsed else visible).strip(), user_turn))
        if parsed:
            self.log.source = "text"
            for call in parsed.calls:
                if self._over():
                    break
                await self.run_text_call(call)
        self.log.source = "native"
        for call in message.tool_calls or []:
            if self._over():
                break
            action = await self.native(call.function, dict(call.arguments or {}), call.parse_error)
            if call.id in recorded:
                action.recorded = clip(recorded[call.id], MAX_RECORDED_CHARS)

    def _over(self) -> bool:
        self.calls += 1
        if self.calls > MAX_CALLS:
            if self.calls == MAX_CALLS + 1:
                self.log.reject("(import)", {}, f"more than {MAX_CALLS} calls; the rest were not replayed")
            return True
        return False

    def save(self, state: TaskState) -> None:
        self.status["turns"] = len(self.turns)
        super().save(state)


@solver
def replay(tools: ToolMap | None = None) -> Solver:
    """Rebuild an imported sample's action record from its conversation (see the module)."""
    tool_map = tools or ToolMap()

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        rep = Replay(state.metadata, tool_map)
        recorded = {m.tool_call_id: m.text for m in state.messages
                    if isinstance(m, ChatMessageTool) and m.tool_call_id}
        user_turn, number, seen_user = 0, 0, False
        for m in state.messages:
            if m.role == "user":
                if not seen_user:
                    user_turn += 1
                seen_user = True
            elif isinstance(m, ChatMessageAssistant):
                seen_user = False
                number += 1
                await rep.turn(number, max(user_turn, 1), m, recorded)
        rep.save(state)
        return state

    return solve
