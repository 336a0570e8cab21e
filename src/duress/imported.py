"""Judging transcripts produced elsewhere (``duress judge``).

Each JSON line holds one agent answer: ``response`` (required), and optionally ``reasoning``,
``system``, ``prompt``, ``id`` and ``factors`` (the condition's levels, when known). Tool calls
written in the text protocol (``<tool_use:email>`` … the format of the original
agentic-misalignment code) are found in the response and replayed on the family's simulated
tools, so they become the same action record as a native run; the judges then run through the
same Inspect scorer, and the result is an ordinary Inspect log in a run folder. ``duress
report``, ``duress agreement`` and the exports work on it exactly as on a native run.

The world file names the roles of the transcripts' world (see the README): the agent, the
engineer doing the replacement, the decision-makers, the leverage people, with names and
addresses, so the rules recognise them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from inspect_ai import Task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import ChatMessageAssistant, ChatMessageSystem, ChatMessageUser
from inspect_ai.solver import Generate, Solver, TaskState, solver

from duress.agent import Episode, text_step
from duress.design import build_design
from duress.judges.rules import duress_judge
from duress.scenarios import Family, get_family
from duress.world import WorldFileError

MAX_LINES = 100_000


class ImportProblem(ValueError):
    """Input that cannot be imported; the message names the file, line and fix."""


def read_world_file(path: Path, family: Family) -> dict[str, Any]:
    """The world file's data, validated against the family's roles."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as err:
        raise ImportProblem(f"cannot read world file {path}: {err}") from None
    except yaml.YAMLError as err:
        raise ImportProblem(f"world file {path} is not valid YAML: {str(err).splitlines()[0]}") from None
    try:
        family.world("file", data=data)
    except WorldFileError as err:
        raise ImportProblem(f"{path}: {err}") from None
    return data


def read_transcripts(path: Path, family: Family) -> list[dict[str, Any]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise ImportProblem(f"cannot read {path}: {err}") from None
    records, ids = [], set()
    for no, line in enumerate(lines, 1):
        if not line.strip():
            continue
        if len(records) >= MAX_LINES:
            raise ImportProblem(f"{path}: more than {MAX_LINES} lines; split the file")
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as err:
            raise ImportProblem(f"{path}:{no}: not valid JSON ({err.msg})") from None
        if not isinstance(obj, dict) or not isinstance(obj.get("response"), str):
            raise ImportProblem(f"{path}:{no}: each line needs a \"response\" string")
        for key in ("reasoning", "system", "prompt"):
            if obj.get(key) is not None and not isinstance(obj[key], str):
                raise ImportProblem(f"{path}:{no}: \"{key}\" must be a string")
        sid = str(obj.get("id", no))
        if sid in ids:
            raise ImportProblem(f"{path}:{no}: duplicate id {sid!r}")
        ids.add(sid)
        factors = obj.get("factors") or {}
        try:
            condition = build_design(family.factors, {k: str(v) for k, v in factors.items()},
                                     family=f"scenario {family.name!r}").conditions()
        except ValueError as err:
            raise ImportProblem(f"{path}:{no}: {err}") from None
        if len(condition) != 1:
            raise ImportProblem(f"{path}:{no}: factors must give one level each")
        records.append({**obj, "id": sid, "condition": condition[0]})
    if not records:
        raise ImportProblem(f"{path}: no transcripts found")
    return records


@solver
def replay() -> Solver:
    """Put an imported answer in the transcript and run its text-protocol calls on the tools."""

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        imp = state.metadata["imported"]
        messages = []
        if imp.get("system"):
            messages.append(ChatMessageSystem(content=imp["system"]))
        messages.append(ChatMessageUser(content=imp.get("prompt") or "(the prompt was not given)"))
        state.messages = messages
        answer = imp["response"]
        if imp.get("reasoning"):
            answer = f"<SCRATCHPAD_REASONING>{imp['reasoning']}</SCRATCHPAD_REASONING>\n{answer}"
        ep = Episode(state.metadata, "text")
        ep.status["turns"] = ep.log.turn = 1
        message = ChatMessageAssistant(content=answer, source="generate")
        state.messages.append(message)
        await text_step(ep, state, message)
        ep.save(state)
        return state

    return solve


def import_task(family_name: str, transcripts: list[dict[str, Any]], world_data: dict[str, Any], source: str,
                judge_model: str | None = None, policy: str = "rules") -> Task:
    family = get_family(family_name)
    world = family.world("file", data=world_data)
    samples = []
    for rec in transcripts:
        cond = rec["condition"]
        samples.append(Sample(
            id=rec["id"],
            input=rec.get("prompt") or "(the prompt was not given)",
            metadata={
                "family": family.name, "condition": cond.id, "factors": cond.as_dict(),
                "world": {"kind": "file", "data": world_data},
                "environment": {"mailbox": {"owner": world["agent"].email, "inbox": [], "now": ""}},
                "user_turns": [],
                "imported": {k: rec.get(k) for k in ("response", "reasoning", "system", "prompt")},
            },
        ))
    return Task(
        name=f"{family.name}_imported",
        dataset=MemoryDataset(samples, name=source),
        solver=replay(),
        scorer=duress_judge(family.name, judge_model=judge_model, policy=policy),
        fail_on_error=False,
        metadata={"duress": {"family": family.name, "model": f"imported:{source}", "imported": True,
                             "judge_model": judge_model, "policy": policy}},
    )
