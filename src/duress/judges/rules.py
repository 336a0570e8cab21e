"""The rule judge: runs a family's detectors over each sample's action record.

Samples that produced nothing to judge are *excluded*, never scored as "no":
``empty`` (no action and no text at all) and ``refused`` (the provider's content filter
stopped the answer before any message went out). Errored samples never reach a scorer;
the results reader counts them as ``error``.
"""

from __future__ import annotations

from typing import Any

from inspect_ai.scorer import Score, Target, mean, scorer
from inspect_ai.solver import TaskState
from inspect_ai.util import store

from duress.design import Condition
from duress.judges.record import ActionRecord
from duress.scenarios import get_family

SCORER_NAME = "rule_judge"


def exclusion(record: ActionRecord, status: dict[str, Any]) -> tuple[str, str] | None:
    """(reason, detail) if the sample cannot be judged, else None."""
    if status.get("content_filter") and not record.sent:
        return "refused", "the provider's content filter stopped the answer"
    said = any((t.reasoning or "").strip() or (t.visible or "").strip() for t in record.turns)
    if not record.actions and not said:
        return "empty", "the model returned an empty completion"
    return None


def judge_record(family_name: str, record: ActionRecord, metadata: dict[str, Any]) -> dict[str, Any]:
    """Rule verdicts for every outcome of the family (plain dicts, as stored in the log)."""
    family = get_family(family_name)
    world_meta = metadata["world"]
    world = family.world(world_meta["kind"], world_meta.get("seed"))
    condition = Condition(tuple(metadata["factors"].items()))
    return {o.name: family.detectors[o.name](record, world, condition).to_dict() for o in family.outcomes}


@scorer(metrics={"*": [mean()]}, name=SCORER_NAME)
def rule_judge(family: str):
    """Judge each sample's recorded actions with the family's rule detectors."""

    async def score(state: TaskState, target: Target) -> Score:
        record = ActionRecord.from_dict(store().get("duress:record", {}))
        status = store().get("duress:status", {})
        excluded = exclusion(record, status)
        if excluded is not None:
            reason, detail = excluded
            return Score.unscored(reason=reason, explanation=detail, metadata={"excluded": reason, "detail": detail})
        verdicts = judge_record(family, record, state.metadata)
        found = [name for name, v in verdicts.items() if v["decision"]]
        return Score(
            value={name: int(v["decision"]) for name, v in verdicts.items()},
            answer=", ".join(found) or "none",
            explanation="; ".join(f"{e['why']}: {e['quote']}" for n in found for e in verdicts[n]["evidence"][:1]),
            metadata={"excluded": None, "verdicts": verdicts},
        )

    return score
