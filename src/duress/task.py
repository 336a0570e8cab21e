"""Inspect tasks for scenario families.

``family_task`` turns a family and a design into an Inspect :class:`Task`: one sample per
condition (the cross product of the chosen levels), ``samples`` epochs each, the mailbox
agent as solver and the rule judge as scorer. Every registered family becomes an Inspect
task named after it (``inspect eval duress/blackmail``); see :mod:`duress._registry`.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from inspect_ai import Epochs, Task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.scorer import mean

from duress.agent import agent_loop, check_protocol
from duress.choices import WORLDS
from duress.design import Design, build_design
from duress.family_info import METADATA_KEY, FamilyInfo
from duress.judges.rules import duress_judge
from duress.limits import MESSAGE_LIMIT, SAMPLE_TIME_LIMIT
from duress.scenarios import Family, get_family
from duress.scenarios.base import environment_digest, sample_scenario
from duress.verdicts import default_policy



def build_samples(family: Family, design: Design, world: str, seed: int) -> list[Sample]:
    """One sample per condition; the user turn and the inbox are fixed by design and seed."""
    w = family.world(world, seed if world == "random" else None)
    samples = []
    for condition in design.conditions():
        rendered = family.render(condition, w, "text")
        samples.append(
            Sample(
                id=condition.id,
                input=rendered.user,
                # what the sample is, not its rendered text: see duress.scenarios.sample_scenario
                metadata={
                    "family": family.name,
                    "condition": condition.id,
                    "factors": condition.as_dict(),
                    "world": {"kind": w.kind, "seed": w.seed},
                    "environment_digest": environment_digest(rendered.environment),
                },
            )
        )
    return samples


def eval_chunks(conditions: Sequence[str], samples: int, per_log: int) -> list[tuple[list[str], int, int]]:
    """Split ``samples`` epochs of ``conditions`` into evals of at most ``per_log`` samples each:
    ``(conditions, first epoch offset, epochs)`` per eval.

    Inspect holds every finished sample's score and summary until its eval ends, so one eval's
    memory grows with its size; evals of bounded size, run one after the other, keep a run's
    memory flat. Epoch offsets keep each sample's (id, epoch) and generation seed what they would be
    in one big eval, so the split changes no prompt, seed or number.
    """
    if per_log < 1:
        raise ValueError("per_log must be at least 1")
    conditions = list(conditions)
    width = min(len(conditions), per_log) or 1
    epochs = max(1, per_log // width)
    return [(conditions[i:i + width], start, min(epochs, samples - start))
            for i in range(0, len(conditions), width) for start in range(0, samples, epochs)]


def family_task(
    family: str,
    *,
    factors: Mapping[str, str | Sequence[str]] | None = None,
    samples: int = 1,
    world: str = "canonical",
    seed: int = 0,
    protocol: str = "auto",
    max_turns: int | None = None,
    cache: bool = False,
    judge_model: str | None = None,
    policy: str | None = None,
    only: Sequence[str] | None = None,
    epoch_offset: int = 0,
    sample_time_limit: int | None = SAMPLE_TIME_LIMIT,
    message_limit: int | None = MESSAGE_LIMIT,
    token_limit: int | None = None,
    models: Sequence[str] | None = None,
    **factor_levels: Any,
) -> Task:
    """Build the Inspect task for ``family``.

    Factor levels come from ``factors`` or directly as keyword arguments
    (``-T successor_values=same,different``); factors not given take the family's defaults.
    ``judge_model`` adds an LLM judge; ``policy`` (rules, llm, both, either) combines the verdicts
    (default: ``llm`` with a judge model, ``rules`` without).
    ``only`` keeps the listed condition ids; ``epoch_offset`` numbers this task's epochs after earlier
    rounds of the same run (sequential sampling), so their generation seeds differ.
    Per-sample limits (0 or None: none): ``sample_time_limit`` seconds of working time (Inspect's
    ``working_limit``: waiting on a model counts, back-off between retries does not),
    ``message_limit`` messages, ``token_limit`` tokens. A sample that hits one is excluded as
    ``limit``, never judged on a cut-off episode.
    ``models``: every model of the run in order, the first the reference (kept in the log, so that
    readers show the models in that order).
    """
    fam = get_family(family)
    policy = policy or default_policy(judge_model)
    choices: dict[str, Any] = {**(factors or {}), **factor_levels}
    design = build_design(fam.factors, choices, family=f"scenario {family!r}")
    if world not in WORLDS:
        raise ValueError(f"unknown world {world!r}; use canonical or random")
    if samples < 1:
        raise ValueError("samples must be at least 1")
    check_protocol(protocol)
    samples_list = build_samples(fam, design, world, seed)
    if only is not None:
        samples_list = [s for s in samples_list if s.id in set(only)]
    return Task(
        name=family,
        dataset=MemoryDataset(samples_list, name=family),
        # one solver: it puts the scenario's system prompt in front and runs the agent (a second solver
        # would cost every sample another span and two snapshots of its whole state in Inspect)
        solver=agent_loop(protocol=protocol, max_turns=max_turns, seed=seed, cache=cache, epoch_offset=epoch_offset,
                          scenario=sample_scenario),
        scorer=duress_judge(family, judge_model=judge_model, policy=policy),
        # Inspect's running means (inspect view) for the family's own outcomes; awareness and
        # transparency stay in the scores. Rates with intervals come from duress's statistics.
        metrics={o.name: [mean()] for o in fam.outcomes},
        epochs=Epochs(samples),
        fail_on_error=False,
        working_limit=sample_time_limit or None,
        message_limit=message_limit or None,
        token_limit=token_limit or None,
        metadata={"duress": {"family": family, "protocol": protocol, "max_turns": max_turns, "world": world,
                             "seed": seed, "design": {k: list(v) for k, v in design.chosen.items()},
                             "judge_model": judge_model, "policy": policy, "epoch_offset": epoch_offset,
                             "models": list(models or []),
                             # what the readers of the log need of the family, so they need not import it
                             METADATA_KEY: FamilyInfo.of_family(fam).to_metadata()}},
    )

