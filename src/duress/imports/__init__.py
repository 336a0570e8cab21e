"""Judging transcripts produced elsewhere: other harnesses' logs, chat transcripts, Inspect logs.

The path, one direction::

    input (JSON lines of answers or of chat messages, Inspect logs)      formats, peers
      → Transcript: the conversation as Inspect messages, factors,       transcript
        the source's own condition and grader scores
      → the family's environment for it, from the world file and what    material, Family.import_environment
        the transcript brings (the prompt's emails, supplied documents)
      → replay of its tool calls on the simulated tools (tool map)        replay, toolmap
      → the same scorer as a native run (rules, LLM judge, the peer's
        verdicts kept beside) → an Inspect log in a run folder

``duress report``, ``duress agreement`` and the exports read that folder as any run's. The
world file names the roles of the transcripts' world (see the README); :func:`draft_world`
drafts one from a prompt. Any problem with the input is one :class:`ImportProblem` line.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any


from duress.imports.formats import FORMATS, detect_format, read_any
from duress.imports.material import documents_in, emails_in, session_time
from duress.imports.problems import ImportProblem
from duress.imports.toolmap import ToolMap, load_tool_map
from duress.imports.transcript import Transcript
from duress.imports.world_draft import draft_world
from duress.yamlfile import read_yaml

__all__ = ["FORMATS", "ImportProblem", "ImportedRun", "Transcript", "ToolMap", "detect_format", "draft_world",
           "import_task", "judge_transcripts", "load_tool_map", "read_transcripts", "read_world_file"]


def read_world_file(path: Path, family: Any) -> dict[str, Any]:
    """The world file's data, validated against the family's roles."""
    from duress.world import WorldFileError

    data = read_yaml(path, "world file", ImportProblem)
    try:
        family.world("file", data=data)
    except WorldFileError as err:
        raise ImportProblem(f"{path}: {err}") from None
    return data


def canonical_world_data(family: Any) -> dict[str, Any]:
    """The family's canonical world as world-file data: transcripts of duress's own world need no file."""
    described = family.world("canonical").describe()
    return {k: described[k] for k in ("company", "domain", "people")}


def read_transcripts(path: Path, family: Any, format: str | None = None) -> list[Transcript]:
    """Every transcript of ``path`` (``format`` one of :data:`FORMATS`, detected when None), checked
    against ``family``: ids unique, factor levels the family's, a peer sample of this family."""
    from duress.design import build_design

    path = Path(path)
    out: list[Transcript] = []
    ids: set[str] = set()
    known = {f.name for f in family.factors}
    for t in read_any(path, format):
        if t.peer is not None:
            if t.peer["family"] != family.name:
                raise ImportProblem(f"{t.where}: a {t.peer['grader']} sample of the {t.peer['family']} scenario; "
                                    f"judge it as scenario {t.peer['family']}, not {family.name}")
            t.factors = {k: v for k, v in t.factors.items() if k in known and v in family.factor(k).levels}
        if t.id in ids:
            raise ImportProblem(f"{t.where}: duplicate id {t.id!r}")
        ids.add(t.id)
        try:
            conditions = build_design(family.factors, t.factors, family=f"scenario {family.name!r}").conditions()
        except ValueError as err:
            raise ImportProblem(f"{t.where}: {err}") from None
        if len(conditions) != 1:
            raise ImportProblem(f"{t.where}: factors must give one level each")
        out.append(t)
    if not out:
        raise ImportProblem(f"{path}: no transcripts found")
    return out


def _sample(family: Any, world: Any, world_data: dict[str, Any], t: Transcript):
    from inspect_ai.dataset import Sample

    from duress.design import build_design
    from duress.scenarios.base import Material

    cond = build_design(family.factors, t.factors, family=f"scenario {family.name!r}").conditions()[0]
    texts = t.user_texts
    inbox = emails_in(texts)
    material = Material(tuple(inbox), documents_in(texts), dict(t.files), session_time(inbox))
    imported: dict[str, Any] = {"prompt": "" if inbox else t.prompt, "source": t.where}
    if t.peer is not None:
        imported["peer_verdicts"] = {o: {**v, "grader": t.peer["grader"]} for o, v in t.peer["verdicts"].items()}
        imported["peer_condition"] = t.peer["levels"]
    return Sample(
        id=t.id,
        input=t.messages,
        metadata={
            "family": family.name, "condition": t.condition_id or cond.id, "factors": cond.as_dict(),
            "world": {"kind": "file", "data": world_data},
            "environment": family.import_environment(world, cond, material),
            "user_turns": [],
            "imported": imported,
        },
    )


def import_task(family_name: str, transcripts: list[Transcript], world_data: dict[str, Any], source: str,
                judge_model: str | None = None, policy: str = "rules", tools: ToolMap | None = None):
    """The Inspect task that replays ``transcripts`` on ``family_name``'s tools and judges them."""
    from inspect_ai import Task
    from inspect_ai.dataset import MemoryDataset

    from duress.family_info import METADATA_KEY, FamilyInfo
    from duress.imports.replay import replay
    from duress.judges.rules import duress_judge
    from duress.scenarios import get_family

    family = get_family(family_name)
    world = family.world("file", data=world_data)
    samples = [_sample(family, world, world_data, t) for t in transcripts]
    return Task(
        name=f"{family.name}_imported",
        dataset=MemoryDataset(samples, name=source),
        solver=replay(tools),
        scorer=duress_judge(family.name, judge_model=judge_model, policy=policy),
        fail_on_error=False,
        metadata={"duress": {"family": family.name, "model": f"imported:{source}", "imported": True,
                             "judge_model": judge_model, "policy": policy,
                             METADATA_KEY: FamilyInfo.of_family(family).to_metadata()}},
    )


@dataclass(frozen=True)
class ImportedRun:
    run_dir: Path  # holds logs/ and run.json; api.finish(run_dir, title) reads it back
    transcripts: int
    title: str  # the outcome table's title


def judge_transcripts(input_path: Path, scenario: str, world_path: Path | None = None, *, format: str | None = None,
                      tools_map: Path | None = None, judge_model: str | None = None, policy: str | None = None,
                      out: Path = Path("runs")) -> ImportedRun:
    """Read, replay and judge transcripts; the run folder holds an ordinary Inspect log.

    Everything about the input is checked before anything is written (an :class:`ImportProblem`
    then, and no run folder)."""
    from inspect_ai import eval as inspect_eval

    from duress.api import new_run_dir, slug
    from duress.redact import redact_all
    from duress.scenarios import get_family
    from duress.verdicts import policy_label, run_policy

    try:
        family = get_family(scenario)
    except KeyError as err:
        raise ImportProblem(str(err.args[0])) from None
    policy_name = run_policy(policy, judge_model)
    world_data = read_world_file(Path(world_path), family) if world_path is not None else canonical_world_data(family)
    tools = load_tool_map(Path(tools_map) if tools_map else None)
    transcripts = read_transcripts(Path(input_path), family, format)
    # a new folder, as duress run makes one (``-2`` … when another import started in the same second)
    run_dir = new_run_dir(Path(out) / f"{time.strftime('%Y%m%d-%H%M%S')}-{family.name}-imported-{slug(Path(input_path).stem)}")
    task = import_task(family.name, transcripts, world_data, Path(input_path).name, judge_model=judge_model,
                       policy=policy_name, tools=tools)
    logs = inspect_eval(task, model="none/none", log_dir=str(run_dir / "logs"), display="none", score_display=False)
    (run_dir / "run.json").write_text(json.dumps(redact_all({
        "scenario": family.name, "input": str(input_path), "format": format or detect_format(Path(input_path)),
        "world_file": str(world_path) if world_path is not None else None, "tools": str(tools_map) if tools_map else None,
        "judge_model": judge_model, "policy": policy_name}), indent=2) + "\n")
    if logs[0].status == "error" and not logs[0].samples:
        raise ImportProblem(f"judging failed: {logs[0].error.message if logs[0].error else 'unknown error'}")
    return ImportedRun(run_dir, len(transcripts),
                       f"{family.name} · imported {Path(input_path).name} · verdicts: {policy_label(policy_name, [judge_model])}")
