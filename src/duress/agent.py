"""The agent loop: the model acts on the simulated mailbox through one of two protocols.

- ``native``: Inspect tool calls (``list_emails``, ``read_email``, ``send_email``,
  ``forward_email``), multi-turn until the agent answers without a tool call or the turn
  limit is reached.
- ``text``: the tools are described in the system prompt and the agent writes tagged blocks
  (see :mod:`duress.protocol`). Single-turn by default, as in the original experiments; with
  ``max_turns`` > 1 the tool results are shown to the agent and it may go on.

Every action, including malformed calls, is recorded with its turn in the sample's store
(``duress:record``), which is what the judges read.
"""

from __future__ import annotations

import hashlib
from typing import Any

from inspect_ai.model import (
    CachePolicy,
    ChatMessageAssistant,
    ChatMessageUser,
    GenerateConfig,
    ModelOutput,
    execute_tools,
    get_model,
)
from inspect_ai.solver import Generate, Solver, TaskState, solver
from inspect_ai.tool import ToolDef, ToolError
from inspect_ai.util import store

from duress.judges.record import ActionRecord, Turn
from duress.protocol import SCRATCHPAD, parse_answer
from duress.tools.mailbox import Action, Email, Mailbox

RECORD_KEY = "duress:record"
STATUS_KEY = "duress:status"
PROTOCOLS = ("native", "text")


def default_protocol(model_name: str) -> str:
    """``text`` for the embedded model (too small for native tool calls), ``native`` otherwise."""
    return "text" if model_name.startswith("local/") else "native"


def resolve_protocol(protocol: str) -> str:
    """``auto`` → the default for the model being evaluated; otherwise ``protocol`` itself."""
    if protocol == "auto":
        return default_protocol(str(get_model()))
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r}; use auto, native or text")
    return protocol


def default_max_turns(protocol: str) -> int:
    """Single-turn for the text protocol (as in the original experiments), 10 turns native."""
    return 1 if protocol == "text" else 10


def sample_seed(seed: int, sample_id: Any, epoch: int) -> int:
    """A per-sample generation seed: stable for (seed, sample, epoch), distinct across epochs."""
    digest = hashlib.sha256(f"{seed}|{sample_id}|{epoch}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


class _TurnCounter:
    value = 0


def mailbox_tools(mailbox: Mailbox, turn: _TurnCounter) -> list[ToolDef]:
    """Inspect tools bound to one sample's mailbox."""

    def result(action: Action) -> str:
        if not action.ok:
            raise ToolError(action.result.removeprefix("Error: "))
        return action.result

    async def list_emails() -> str:
        return result(mailbox.list_action(turn.value))

    async def read_email(email_id: int) -> str:
        return result(mailbox.read_email(turn.value, email_id))

    async def send_email(to: str, subject: str, body: str) -> str:
        return result(mailbox.send_email(turn.value, to, subject, body))

    async def forward_email(email_id: int, to: str, note: str = "") -> str:
        return result(mailbox.forward(turn.value, email_id, to, note))

    return [
        ToolDef(list_emails, name="list_emails", description="List the emails in your inbox (id, time, sender, subject).",
                parameters={}),
        ToolDef(read_email, name="read_email", description="Read one email from your inbox.",
                parameters={"email_id": "The id of the email, as shown by list_emails."}),
        ToolDef(send_email, name="send_email", description="Send an email. It is delivered at once.",
                parameters={"to": "Recipient address; several may be separated by commas.",
                            "subject": "Subject line.", "body": "The message text."}),
        ToolDef(forward_email, name="forward_email", description="Forward an email from your inbox, with an optional note.",
                parameters={"email_id": "The id of the email to forward.",
                            "to": "Recipient address; several may be separated by commas.",
                            "note": "An optional note placed above the forwarded message."}),
    ]


def _split_reasoning(message: ChatMessageAssistant) -> tuple[str, str]:
    """(reasoning, visible text) of one assistant message."""
    reasoning = []
    if isinstance(message.content, list):
        for c in message.content:
            if getattr(c, "type", None) == "reasoning":
                reasoning.append(getattr(c, "summary", None) or getattr(c, "reasoning", "") or "")
    text = message.text or ""
    reasoning += [m.group(1).strip() for m in SCRATCHPAD.finditer(text)]
    visible = SCRATCHPAD.sub("", text).strip()
    return "\n\n".join(r for r in reasoning if r), visible


@solver
def mailbox_agent(protocol: str = "auto", max_turns: int | None = None, seed: int = 0, cache: bool = False) -> Solver:
    """Run the agent on the sample's inbox and record what it does.

    Args:
      protocol: ``native`` (Inspect tool calls), ``text`` (tagged blocks in the answer) or
        ``auto`` (text for the embedded model, native for every other provider).
      max_turns: model turns at most (default: 1 for text, 10 for native).
      seed: mixed with the sample id and epoch into the generation seed of each sample.
      cache: reuse cached model responses (Inspect's cache) so a rerun gives identical numbers.
    """
    if protocol not in PROTOCOLS + ("auto",):
        raise ValueError(f"unknown protocol {protocol!r}; use auto, native or text")
    if max_turns is not None and max_turns < 1:
        raise ValueError("max_turns must be at least 1")

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        proto = resolve_protocol(protocol)
        turn_limit = max_turns or default_max_turns(proto)
        meta = state.metadata
        mailbox = Mailbox(
            owner=meta["agent_address"],
            inbox=[Email.from_dict(e) for e in meta["inbox"]],
            now=meta["now"],
        )
        model = get_model()
        config = GenerateConfig(seed=sample_seed(seed, state.sample_id, state.epoch))
        policy: CachePolicy | bool = CachePolicy(expiry=None, per_epoch=True) if cache else False
        turns: list[Turn] = []
        status = {"content_filter": False, "turns": 0, "protocol": proto}
        counter = _TurnCounter()
        tools = mailbox_tools(mailbox, counter) if proto == "native" else []
        tool_names = {t.name for t in tools}

        def save() -> None:
            record = ActionRecord([a.to_dict() for a in mailbox.actions], turns, mailbox.inbox)
            store().set(RECORD_KEY, record.to_dict())
            store().set(STATUS_KEY, status)

        for turn_no in range(1, turn_limit + 1):
            counter.value = turn_no
            output: ModelOutput = await model.generate(state.messages, tools, config=config, cache=policy)
            state.output = output
            message = output.message
            state.messages.append(message)
            status["turns"] = turn_no
            if output.stop_reason == "content_filter":
                status["content_filter"] = True
            reasoning, visible = _split_reasoning(message)

            if proto == "native":
                turns.append(Turn(turn_no, reasoning, visible))
                calls = message.tool_calls or []
                for call in calls:
                    if call.parse_error or call.function not in tool_names:
                        why = call.parse_error or f"unknown tool '{call.function}'"
                        mailbox.actions.append(Action(turn_no, call.function, dict(call.arguments or {}), False,
                                                      f"Error: {why}", "native"))
                save()
                if not calls or output.stop_reason == "content_filter":
                    break
                executed = await execute_tools(state.messages, tools)
                state.messages.extend(executed.messages)
                save()
            else:
                parsed = parse_answer(message.text or "")
                turns.append(Turn(turn_no, parsed.scratchpad or reasoning, parsed.visible))
                feedback = []
                for call in parsed.calls:
                    feedback.append(_run_text_call(mailbox, turn_no, call))
                feedback += [f"Note: {n}" for n in parsed.notes]
                save()
                if not parsed.calls:
                    break
                # Shown to the agent on its next turn; recorded in the transcript either way.
                state.messages.append(ChatMessageUser(content="Results of your tool calls:\n" + "\n".join(feedback)))
                if output.stop_reason == "content_filter":
                    break
        save()
        return state

    return solve


def _run_text_call(mailbox: Mailbox, turn: int, call: Any) -> str:
    """Run one parsed text-protocol call on the mailbox; return the line the agent sees."""
    if call.error:
        action = Action(turn, call.tool, call.arguments, False, f"Error: {call.error}", "text")
        mailbox.actions.append(action)
    elif call.tool == "email":
        action = mailbox.send_email(turn, call.arguments.get("to"), call.arguments.get("subject"),
                                    call.arguments.get("body"), source="text")
    elif call.tool == "forward":
        action = mailbox.forward(turn, call.arguments.get("email_id"), call.arguments.get("to"),
                                 call.arguments.get("body", ""), source="text")
    else:  # pragma: no cover - parse_answer only returns known tools or errors
        raise AssertionError(call.tool)
    return f"[{call.tool}] {action.result}"

