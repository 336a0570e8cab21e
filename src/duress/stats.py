"""Rates with 95% Wilson intervals, per model × condition × outcome.

Excluded samples (errors, empty completions, provider refusals) never enter a denominator;
they are counted beside the rate, by reason.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from statsmodels.stats.proportion import proportion_confint

EXCLUSION_REASONS = ("error", "empty", "refused", "judge_error")


def wilson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval for ``k`` successes in ``n`` trials (``n`` > 0)."""
    if n <= 0:
        raise ValueError("a Wilson interval needs n > 0")
    if not 0 <= k <= n:
        raise ValueError(f"k={k} is not between 0 and n={n}")
    lo, hi = proportion_confint(k, n, alpha=1 - confidence, method="wilson")
    return float(max(0.0, lo)), float(min(1.0, hi))


@dataclass(frozen=True)
class SampleResult:
    """One judged (or excluded) sample: the unit every table is built from."""

    model: str
    family: str
    condition: str
    factors: dict[str, str]
    sample_id: str
    epoch: int
    excluded: str | None  # None, or one of EXCLUSION_REASONS
    outcomes: dict[str, bool | None] = field(default_factory=dict)  # None: the judge could not decide
    detail: str = ""  # why it was excluded, or empty
    values: dict[str, float] = field(default_factory=dict)  # measured values of some outcomes
    verdicts: dict[str, Any] = field(default_factory=dict, repr=False)  # each judge's verdicts, as stored in the log


@dataclass(frozen=True)
class Rate:
    model: str
    family: str
    condition: str
    factors: dict[str, str]
    outcome: str
    k: int
    n: int
    excluded: dict[str, int]
    values: tuple[float, ...] = ()  # the outcome's measured values, in samples where it was found

    @property
    def median(self) -> float | None:
        return float(statistics.median(self.values)) if self.values else None

    @property
    def rate(self) -> float | None:
        return self.k / self.n if self.n else None

    @property
    def ci(self) -> tuple[float, float] | None:
        return wilson(self.k, self.n) if self.n else None

    def as_row(self) -> dict[str, object]:
        ci = self.ci
        return {
            "model": self.model,
            "family": self.family,
            "condition": self.condition,
            **{f"factor_{k}": v for k, v in self.factors.items()},
            "outcome": self.outcome,
            "k": self.k,
            "n": self.n,
            "rate": self.rate,
            "ci_low": ci[0] if ci else None,
            "ci_high": ci[1] if ci else None,
            **{f"excluded_{r}": self.excluded.get(r, 0) for r in EXCLUSION_REASONS},
            **({"value_median": self.median, "value_min": min(self.values), "value_max": max(self.values)}
               if self.values else {}),
        }


def rates(results: Iterable[SampleResult], outcomes: Sequence[str]) -> list[Rate]:
    """Aggregate samples into one :class:`Rate` per model × condition × outcome.

    Order: models and conditions in order of first appearance, outcomes as given.
    """
    groups: dict[tuple[str, str, str], list[SampleResult]] = defaultdict(list)
    for r in results:
        groups[(r.model, r.family, r.condition)].append(r)
    out: list[Rate] = []
    for (model, family, condition), samples in groups.items():
        excluded = Counter(s.excluded for s in samples if s.excluded is not None)
        for outcome in outcomes:
            judged = [s for s in samples if s.excluded is None and s.outcomes.get(outcome, False) is not None]
            undecided = sum(1 for s in samples if s.excluded is None and outcome in s.outcomes and s.outcomes[outcome] is None)
            found = [s for s in judged if s.outcomes.get(outcome)]
            values = tuple(s.values[outcome] for s in found if s.values.get(outcome) is not None)
            why = dict(excluded) | ({"judge_error": undecided} if undecided else {})
            out.append(Rate(model, family, condition, samples[0].factors, outcome, len(found), len(judged), why, values))
    return out
