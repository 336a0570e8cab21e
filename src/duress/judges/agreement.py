"""How far judges agree: raw agreement, Cohen's κ and the confusion matrix, per outcome.

Pairs compared: the rule judge against the LLM judge (samples that have both); for a log
imported from another harness, each of them against that harness's own grader (``peer``: e.g.
the inspect-evals agentic_misalignment classifier, stored beside duress's verdicts); and, when a
labels file is given, each judge against the human labels. Samples a judge could not decide (LLM
judge errors, a peer grader that failed) are left out of that pair and counted.

Labels file: JSON lines, one per sample, ``{"id": "<sample id>", "epoch": 1, "labels":
{"blackmail": true, "resists": true}}``. ``epoch`` defaults to 1; a ``model`` key narrows
the match when several models' runs are read together; outcomes may also be given at the top
level (``{"id": "...", "blackmail": true}``), next to notes such as a ``"rationale"`` string.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from statsmodels.stats.inter_rater import cohens_kappa

from duress.stats import SampleResult

_RESERVED = {"id", "epoch", "model", "labels"}


class LabelsError(ValueError):
    """A labels file that cannot be used; the message says where and why."""


@dataclass
class Disagreement:
    model: str
    sample_id: str
    epoch: int
    outcome: str
    a: bool
    b: bool
    evidence: str


@dataclass
class Agreement:
    outcome: str
    a: str
    b: str
    both_yes: int = 0
    a_only: int = 0  # a yes, b no
    b_only: int = 0  # a no, b yes
    both_no: int = 0
    undecided: int = 0  # samples where one judge had no decision
    disagreements: list[Disagreement] = field(default_factory=list)

    def add(self, a: bool, b: bool) -> None:
        """Count one sample both judges decided."""
        if a and b:
            self.both_yes += 1
        elif a:
            self.a_only += 1
        elif b:
            self.b_only += 1
        else:
            self.both_no += 1

    @property
    def n(self) -> int:
        return self.both_yes + self.a_only + self.b_only + self.both_no

    @property
    def raw(self) -> float | None:
        return (self.both_yes + self.both_no) / self.n if self.n else None

    @property
    def kappa(self) -> float | None:
        """Cohen's κ; None when undefined (no samples, or both judges gave one answer only)."""
        if not self.n:
            return None
        table = [[self.both_yes, self.a_only], [self.b_only, self.both_no]]
        p_yes_a, p_yes_b = (self.both_yes + self.a_only) / self.n, (self.both_yes + self.b_only) / self.n
        expected = p_yes_a * p_yes_b + (1 - p_yes_a) * (1 - p_yes_b)
        if expected >= 1.0:
            return None
        return float(cohens_kappa(table, return_results=False))


def load_labels(path: Path) -> dict[tuple[str | None, str, int], dict[str, bool]]:
    """(model or None, sample id, epoch) → outcome → label."""
    out: dict[tuple[str | None, str, int], dict[str, bool]] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise LabelsError(f"cannot read labels file {path}: {err}") from None
    for no, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as err:
            raise LabelsError(f"{path}:{no}: not JSON ({err.msg})") from None
        if not isinstance(obj, dict) or "id" not in obj:
            raise LabelsError(f"{path}:{no}: each line must be an object with an \"id\"")
        # At the top level, a string is a note (e.g. a "rationale"), not a label.
        labels = obj.get("labels", {k: v for k, v in obj.items() if k not in _RESERVED and not isinstance(v, str)})
        if not isinstance(labels, dict) or not all(isinstance(v, bool) for v in labels.values()):
            raise LabelsError(f"{path}:{no}: labels must map outcome names to true or false")
        out[(obj.get("model"), str(obj["id"]), int(obj.get("epoch", 1)))] = labels
    return out


JUDGES = ("rules", "llm", "peer")  # the judges a stored verdict entry may hold, in pairing order


def _judge_decisions(r: SampleResult) -> dict[str, dict[str, bool | None]]:
    """outcome → {judge: bool | None (an error)} for the judges the entry holds."""
    out = {}
    for name, entry in r.verdicts.items():
        got: dict[str, bool | None] = {}
        for judge in JUDGES:
            v = entry.get(judge)
            if isinstance(v, dict):
                got[judge] = None if "error" in v or "decision" not in v else bool(v["decision"])
        out[name] = got
    return out


def _quote(entry: dict[str, Any] | None) -> str:
    for e in (entry or {}).get("evidence", [])[:1]:
        return str(e.get("quote", ""))[:160]
    return ""


def agreements(results: Sequence[SampleResult], labels: dict[tuple[str | None, str, int], dict[str, bool]] | None = None,
               outcomes: Sequence[str] | None = None) -> list[Agreement]:
    """Agreement of each pair of judges (rules, LLM judge, a peer's grader), and of each judge vs
    human labels, per outcome."""
    judged = [r for r in results if r.excluded is None]
    names = list(outcomes or dict.fromkeys(o for r in judged for o in r.verdicts))
    table: list[Agreement] = []
    pairs = [(a, b) for i, a in enumerate(JUDGES) for b in JUDGES[i + 1:]]
    pairs += [(j, "human") for j in JUDGES] if labels is not None else []
    for outcome in names:
        for a_name, b_name in pairs:
            ag = Agreement(outcome, a_name, b_name)
            relevant = False
            for r in judged:
                entry = r.verdicts.get(outcome)
                if entry is None:
                    continue
                values: dict[str, bool | None] = dict(_judge_decisions(r)[outcome])
                if a_name not in values or (b_name != "human" and b_name not in values):
                    continue  # this sample has no verdict of one of the two judges
                if labels is not None:
                    lab = labels.get((r.model, r.sample_id, r.epoch)) or labels.get((None, r.sample_id, r.epoch)) or {}
                    values["human"] = lab.get(outcome)
                if b_name == "human" and values["human"] is None:
                    continue
                relevant = True
                a, b = values[a_name], values[b_name]
                if a is None or b is None:
                    ag.undecided += 1
                    continue
                ag.add(a, b)
                if a != b:
                    quote = _quote(entry["rules"] if a_name == "rules" and a else entry.get("llm") or entry.get(a_name))
                    ag.disagreements.append(Disagreement(r.model, r.sample_id, r.epoch, outcome, a, b, quote))
            if relevant:
                table.append(ag)
    return table
