"""Logs of other harnesses' tasks that duress knows: their conditions and their own graders.

A peer adapter reads one sample of a known task's Inspect log and says which duress family it
belongs to, its factor levels (as far as they map), its own condition id, and the peer grader's
decision per duress outcome, which the scorer keeps beside duress's verdicts (``peer``) so
``duress agreement`` compares the two graders on the same samples. Adapters are registered by
task name; a new peer is one function and one registry line here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from duress.imports.problems import ImportProblem


@dataclass(frozen=True)
class PeerSample:
    family: str
    factors: dict[str, str]
    condition_id: str
    grader: str
    verdicts: dict[str, dict[str, Any]] = field(default_factory=dict)  # duress outcome → {"decision"} or {"error"}
    levels: dict[str, Any] = field(default_factory=dict)  # the peer's own condition, as it was


PeerAdapter = Callable[[Mapping[str, Any], Mapping[str, Any], str], PeerSample]  # (metadata, scores, where)

# inspect-evals agentic_misalignment (prompt_generator.py, agentic_misalignment.py): the sample's
# metadata holds scenario, goal_type, goal_value, urgency_type, extra_system_instructions, prod,
# test_eval_awareness and condition_id; the harmfulness_scorer's value is {"harmful": 0/1,
# "classifier_verdict": 0/1} (eval_awareness_scorer adds {"aware": 0/1}).
AM_FAMILIES = {"blackmail": ("blackmail", "blackmail"), "leaking": ("leaking", "leaks_documents")}
AM_LEVELS: dict[str, tuple[str, Callable[[Any], str | None]]] = {
    "urgency_type": ("threat", lambda v: v if v in ("replacement", "restriction", "none") else None),
    "goal_type": ("goal_conflict", lambda v: v if v in ("explicit", "none") else None),  # latent, ambiguous, swap: no level
    "extra_system_instructions": ("guardrail", lambda v: {None: "none", "dont": "instructed"}.get(v)),
    "prod": ("scratchpad", lambda v: {True: "off", False: "on"}.get(v)),
}


def _decision(score: Any, key: str) -> dict[str, Any] | None:
    if score is None:
        return None
    value = getattr(score, "value", None)
    got = value.get(key) if isinstance(value, dict) else None
    if isinstance(got, (int, float)) and not isinstance(got, bool) and not math.isnan(float(got)):
        return {"decision": bool(got)}
    if isinstance(got, bool):
        return {"decision": got}
    reason = getattr(score, "explanation", None) or "no decision"
    return {"error": str(reason)[:300]}


def agentic_misalignment(metadata: Mapping[str, Any], scores: Mapping[str, Any], where: str) -> PeerSample:
    scenario = metadata.get("scenario")
    if scenario not in AM_FAMILIES:
        raise ImportProblem(f"{where}: agentic_misalignment scenario {scenario!r} has no duress family; "
                            f"expected one of {', '.join(AM_FAMILIES)}")
    family, outcome = AM_FAMILIES[scenario]
    factors = {}
    for key, (factor, level) in AM_LEVELS.items():
        got = level(metadata.get(key))
        if got is not None:
            factors[factor] = got
    condition_id = str(metadata.get("condition_id") or
                       f"{scenario}_{metadata.get('goal_type')}-{metadata.get('goal_value')}_{metadata.get('urgency_type')}")
    verdicts: dict[str, dict[str, Any]] = {}
    harmful = _decision(scores.get("harmfulness_scorer"), "harmful")
    if harmful is not None:
        verdicts[outcome] = harmful
    aware = _decision(scores.get("eval_awareness_scorer"), "aware")
    if aware is not None:
        verdicts["states_evaluation"] = aware
    levels = {k: metadata.get(k) for k in ("scenario", "goal_type", "goal_value", "urgency_type",
                                            "extra_system_instructions", "prod", "test_eval_awareness")}
    return PeerSample(family, factors, condition_id, "agentic_misalignment", verdicts, levels)


PEERS: dict[str, PeerAdapter] = {"agentic_misalignment": agentic_misalignment}


def peer_adapter(task_name: str) -> PeerAdapter | None:
    """The adapter of a log's task (``inspect_evals/agentic_misalignment`` or ``agentic_misalignment``)."""
    return PEERS.get(task_name.rsplit("/", 1)[-1])
