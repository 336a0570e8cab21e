"""Rates with 95% Wilson intervals, per model × condition × outcome.

Excluded samples (errors, empty completions, provider refusals) never enter a denominator;
they are counted beside the rate, by reason.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from statsmodels.stats.proportion import proportion_confint

from duress.verdicts import EXCLUSION_REASONS, JUDGE_ERROR

if TYPE_CHECKING:
    from duress.family_info import FamilyInfo


def wilson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval for ``k`` successes in ``n`` trials (``n`` > 0).

    At k = 0 the lower bound is exactly 0 and at k = n the upper bound exactly 1, as the formula
    says; statsmodels' floating point can land a hair inside (1e-18, 0.9999999999999999), which
    would make an interval for an observed 100% exclude 100%."""
    if n <= 0:
        raise ValueError("a Wilson interval needs n > 0")
    if not 0 <= k <= n:
        raise ValueError(f"k={k} is not between 0 and n={n}")
    lo, hi = proportion_confint(k, n, alpha=1 - confidence, method="wilson")
    lo = 0.0 if k == 0 else max(0.0, float(lo))
    hi = 1.0 if k == n else min(1.0, float(hi))
    return lo, hi


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
    tokens: dict[str, int] = field(default_factory=dict)  # input/output tokens of the agent, and of the judge
    malformed_calls: int = 0  # tool calls recovered from malformed but unmistakable blocks
    unmapped_calls: int = 0  # imported transcripts: calls of tools duress does not simulate (kept, not run)
    origin: str = ""  # world and seed of the run (or the log's task): with the epoch, what makes a sample the same
    setting: str = ""  # what the agent was shown and how it acted: the world (and its seed) and the protocol
    # what the log says of its family (outcomes, harmful ones, level order); shared by a log's samples
    info: "FamilyInfo | None" = field(default=None, repr=False, compare=False)


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
            why = dict(excluded) | ({JUDGE_ERROR: undecided} if undecided else {})
            out.append(Rate(model, family, condition, samples[0].factors, outcome, len(found), len(judged), why, values))
    return out


# --- comparisons, factor effects, planning and sequential sampling -------------------------
#
# Everything below reads SampleResult lists the way rates() does: excluded samples never enter a
# denominator, and a sample whose judge could not decide an outcome (outcomes[o] is None) is left out
# of that outcome's k and n. One difference from rates(): a sample whose ``outcomes`` has no entry for
# an outcome at all (its family does not judge that outcome) is left out here too, instead of being
# counted as "not found", so that a comparison or a model never mixes in outcomes a family lacks.

import math
import warnings
from typing import Mapping

import numpy as np
from scipy import optimize
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_effectsize


def _decided(r: SampleResult, outcome: str) -> bool | None:
    """The sample's decision on ``outcome``, or None if it is excluded, undecided or not judged for it."""
    if r.excluded is not None:
        return None
    value = r.outcomes.get(outcome)
    return None if value is None else bool(value)


def _z(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, not {confidence}")
    return float(sps.norm.ppf(1 - (1 - confidence) / 2))


def risk_difference(k1: int, n1: int, k2: int, n2: int, confidence: float = 0.95) -> tuple[float, float, float]:
    """The risk difference p1 - p2 (p = k/n) and its Newcombe hybrid score interval.

    Returns ``(k1/n1 - k2/n2, lo, hi)``. The interval is Newcombe's (1998) method 10: it combines
    the two groups' Wilson score intervals (without continuity correction), so it stays inside
    [-1, 1], is not degenerate at 0/n or n/n, and keeps close to nominal coverage at the small n
    and extreme rates of misalignment evaluations, where the Wald interval fails. Computed by
    statsmodels ``confint_proportions_2indep(method="newcomb", compare="diff")``.

    Raises ValueError if either n is 0 (there is no rate to compare) or a k is outside 0..n.
    """
    if n1 <= 0 or n2 <= 0:
        raise ValueError(f"a risk difference needs n1 > 0 and n2 > 0 (got n1={n1}, n2={n2})")
    if not (0 <= k1 <= n1 and 0 <= k2 <= n2):
        raise ValueError(f"counts out of range: k1={k1}, n1={n1}, k2={k2}, n2={n2}")
    lo, hi = confint_proportions_2indep(k1, n1, k2, n2, method="newcomb", compare="diff", alpha=1 - confidence)
    return k1 / n1 - k2 / n2, float(max(-1.0, lo)), float(min(1.0, hi))


def fisher_p(k1: int, n1: int, k2: int, n2: int) -> float:
    """Two-sided Fisher exact p-value for k1/n1 against k2/n2 (scipy ``fisher_exact``).

    The 2x2 table is [[k1, n1-k1], [k2, n2-k2]]; scipy's two-sided p sums the probabilities (under
    the hypergeometric null, margins fixed) of every table no more probable than the observed one.
    Exact, so valid at any n; conservative at small n. Note that it need not agree exactly with
    whether the Newcombe interval of :func:`risk_difference` contains 0: the two are different
    procedures.
    """
    if not (0 <= k1 <= n1 and 0 <= k2 <= n2):
        raise ValueError(f"counts out of range: k1={k1}, n1={n1}, k2={k2}, n2={n2}")
    return float(sps.fisher_exact([[k1, n1 - k1], [k2, n2 - k2]], alternative="two-sided").pvalue)


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm step-down adjusted p-values (statsmodels ``multipletests(method="holm")``), in input order.

    Controls the family-wise error rate (the chance of any false rejection among the family) under
    any dependence between the tests; adjusted values are capped at 1. An empty list gives [].
    """
    if len(pvalues) == 0:
        return []
    return [float(p) for p in multipletests(list(pvalues), method="holm")[1]]


@dataclass(frozen=True)
class Comparison:
    """Group ``a`` against group ``b`` on one outcome in one (family, condition).

    ``condition`` is the condition id (``factor=level,...``); when levels of a factor are
    compared it is the id without that factor (prefixed by ``model · `` when several models are
    present). ``diff`` = k1/n1 - k2/n2 (group a minus group b) with its Newcombe 95% interval
    ``lo``..``hi``; ``p`` is the two-sided Fisher exact p-value and ``p_holm`` the Holm-adjusted
    p-value across every comparison returned by the same :func:`compare` call.
    """

    family: str
    condition: str
    outcome: str
    a: str
    b: str
    k1: int
    n1: int
    k2: int
    n2: int
    diff: float
    lo: float
    hi: float
    p: float
    p_holm: float

    def as_row(self) -> dict[str, object]:
        return {
            "family": self.family, "condition": self.condition, "outcome": self.outcome,
            "a": self.a, "b": self.b, "k1": self.k1, "n1": self.n1, "k2": self.k2, "n2": self.n2,
            "rate_a": self.k1 / self.n1, "rate_b": self.k2 / self.n2,
            "diff": self.diff, "ci_low": self.lo, "ci_high": self.hi, "p": self.p, "p_holm": self.p_holm,
        }


def _counts(samples: Iterable[SampleResult], outcome: str) -> tuple[int, int]:
    decisions = [d for d in (_decided(s, outcome) for s in samples) if d is not None]
    return sum(decisions), len(decisions)


def compare(results: Sequence[SampleResult], outcomes: Sequence[str], by: str, a: str, b: str) -> list[Comparison]:
    """Pairwise comparisons of two groups, one per matched condition × outcome, Holm-corrected together.

    ``by="model"``: model ``a`` against model ``b`` in every (family, condition) both were run on.
    ``by=<factor>``: level ``a`` against level ``b`` of that factor, pairing conditions of the same
    model and family that agree on every other factor. Samples without that factor are ignored.

    Excluded samples and undecided outcomes are left out of k and n; a pair where either n is 0 is
    skipped. Each comparison gets the risk difference (a minus b) with its Newcombe 95% interval and
    a two-sided Fisher exact p; ``p_holm`` adjusts across ALL comparisons returned by this call
    (every condition and outcome), so the family of tests is the whole report section. The interval
    is not adjusted for multiplicity.

    Order: pairs in order of first appearance (of either group) in ``results``, outcomes as given.
    Raises ValueError if ``a == b`` or if no sample has model/level ``a`` or ``b`` (a typo is
    not silently reported as "no comparisons").
    """
    if a == b:
        raise ValueError(f"compare {a!r} against a different {by}")
    groups: dict[tuple, dict[str, list[SampleResult]]] = {}
    labels: dict[tuple, tuple[str, str]] = {}
    if by == "model":
        seen = {r.model for r in results}
        for r in results:
            if r.model in (a, b):
                key = (r.family, r.condition)
                groups.setdefault(key, {a: [], b: []})[r.model].append(r)
                labels[key] = (r.family, r.condition)
    else:
        seen = {r.factors[by] for r in results if by in r.factors}
        if not seen:
            raise ValueError(f"no sample has a factor {by!r} (compare by 'model' or by a factor of the results)")
        several_models = len({r.model for r in results if by in r.factors}) > 1
        for r in results:
            level = r.factors.get(by)
            if level in (a, b):
                rest = tuple((f, v) for f, v in r.factors.items() if f != by)
                key = (r.model, r.family, rest)
                groups.setdefault(key, {a: [], b: []})[level].append(r)
                label = ",".join(f"{f}={v}" for f, v in rest)
                labels[key] = (r.family, f"{r.model} · {label}" if several_models else label)
    missing = [g for g in (a, b) if g not in seen]
    if missing:
        raise ValueError(f"no sample has {by}={missing[0]!r}; present: {', '.join(sorted(seen))}")
    raw: list[dict[str, Any]] = []
    for key, pair in groups.items():
        if not pair[a] or not pair[b]:
            continue
        family, condition = labels[key]
        for outcome in outcomes:
            k1, n1 = _counts(pair[a], outcome)
            k2, n2 = _counts(pair[b], outcome)
            if n1 == 0 or n2 == 0:
                continue
            diff, lo, hi = risk_difference(k1, n1, k2, n2)
            raw.append(dict(family=family, condition=condition, outcome=outcome, a=a, b=b, k1=k1, n1=n1, k2=k2,
                            n2=n2, diff=diff, lo=lo, hi=hi, p=fisher_p(k1, n1, k2, n2)))
    adjusted = holm([c["p"] for c in raw])
    return [Comparison(**c, p_holm=ph) for c, ph in zip(raw, adjusted)]


def comparison_outcomes(results: Sequence[SampleResult]) -> list[str]:
    """The outcomes a comparison covers unless told otherwise: each family's own outcomes (not the
    shared ones, such as the awareness outcomes, which the reports show on their own), in the
    families' order; for a family no log or registry describes, the outcomes its samples were judged on."""
    names: list[str] = []
    seen: set[str] = set()
    for r in results:
        if r.family in seen:
            continue
        seen.add(r.family)
        info = family_info(r)
        own = info.own or info.outcomes or tuple(o for s in results if s.family == r.family for o in s.outcomes)
        names += [o for o in dict.fromkeys(own) if o not in names]
    return names


@dataclass(frozen=True)
class ComparisonFamily:
    """One family of comparisons: the tests Holm's correction runs over together, and what they are.

    Every view that shows comparisons (``duress compare``, the HTML report) builds its family with
    :func:`comparison_family` and prints :meth:`statement`, so the same cell gets the same Holm p
    wherever the same comparisons are shown, and the reader is told over what it was corrected."""

    by: str
    a: str
    b: str
    outcomes: tuple[str, ...]  # the outcomes asked for (some may have no comparison: no judged samples)
    comparisons: tuple[Comparison, ...]

    @property
    def n(self) -> int:
        return len(self.comparisons)

    def statement(self, a_name: str | None = None, b_name: str | None = None) -> str:
        """"Holm over N comparisons: what they are" (``a_name``/``b_name``: how to call the two sides)."""
        conditions = list(dict.fromkeys((c.family, c.condition) for c in self.comparisons))
        used = [o for o in self.outcomes if any(c.outcome == o for c in self.comparisons)]
        if a_name or b_name:
            sides = f"{a_name or self.a} vs {b_name or self.b}"
        elif self.by == "model":
            sides = f"{self.a} vs {self.b}"
        else:
            sides = f"{self.by}={self.a} vs {self.by}={self.b}"
        text = (f"Holm over {self.n} comparison{'s' if self.n != 1 else ''}: {sides}, "
                f"{len(used)} outcome{'s' if len(used) != 1 else ''} ({', '.join(used)}) in "
                f"{len(conditions)} condition{'s' if len(conditions) != 1 else ''}")
        missing = len(used) * len(conditions) - self.n
        if missing > 0:
            text += f" ({missing} condition × outcome pair{'s' if missing != 1 else ''} without judged samples on both sides left out)"
        dropped = [o for o in self.outcomes if o not in used]
        if dropped:
            text += f"; not compared (no judged samples on both sides): {', '.join(dropped)}"
        return text


def comparison_family(results: Sequence[SampleResult], by: str, a: str, b: str,
                      outcomes: Sequence[str] | None = None) -> ComparisonFamily:
    """The comparisons of ``a`` against ``b`` (see :func:`compare`), Holm-corrected together.

    The family is every condition both sides were run on × ``outcomes`` (default:
    :func:`comparison_outcomes`, each family's own outcomes) with judged samples on both sides.
    This is the one definition of the family of tests: the CLI and the HTML report both use it."""
    names = list(dict.fromkeys(outcomes)) if outcomes else comparison_outcomes(results)
    return ComparisonFamily(by, a, b, tuple(names), tuple(compare(results, names, by, a, b)))


# --- factor effects: logistic regression, with Firth's correction under separation ------------

@dataclass(frozen=True)
class Effect:
    """One term of a logistic regression of an outcome on the design's factors.

    ``term`` is ``factor=level vs reference`` for a main effect (treatment coding), and two such
    terms joined by `` × `` for an interaction. ``odds_ratio`` = exp(coefficient) with its 95%
    interval ``lo``..``hi`` and a two-sided ``p``.

    ``method="logit"``: ordinary maximum likelihood (statsmodels ``Logit``); Wald interval and
    Wald z-test. ``method="firth"``: Firth's penalised likelihood, used because the data were
    separated or the ML fit failed (see ``note``); profile penalised-likelihood interval and
    penalised likelihood-ratio test (an interval end that cannot be bracketed is reported as 0 or
    inf). A term that the data cannot estimate (its column is a linear combination of others, e.g.
    a combination of levels with no decided sample) gets NaN everywhere and says so in ``note``.
    Main effects are adjusted for every other term in the same fit.
    """

    outcome: str
    term: str
    odds_ratio: float
    lo: float
    hi: float
    p: float
    method: str
    note: str = ""

    def as_row(self) -> dict[str, object]:
        return {"outcome": self.outcome, "term": self.term, "odds_ratio": self.odds_ratio, "ci_low": self.lo,
                "ci_high": self.hi, "p": self.p, "method": self.method, "note": self.note}


def _level_order(info: "FamilyInfo", factor: str, present: Iterable[str]) -> list[str]:
    """Levels of ``factor`` present in the data, in the family's declared order (first = reference).

    Falls back to order of first appearance for a factor the family does not declare
    (e.g. "model", or an unknown family)."""
    present = list(dict.fromkeys(present))
    declared = info.levels(factor)
    if declared is None:
        return present
    return [lv for lv in declared if lv in present] + [lv for lv in present if lv not in declared]


def _separated(X: np.ndarray, y: np.ndarray) -> bool:
    """Whether the 0/1 data are (quasi-)completely separated by the columns of ``X``.

    Exact linear-programming check (Konis 2007; R's detectseparation): separation exists iff some
    direction b has x_i·b >= 0 for every event and x_i·b <= 0 for every non-event with at least one
    strict inequality. Maximise the sum of s_i x_i·b (s = +1/-1) under those constraints with b in
    [-1, 1]^p: the optimum is 0 without separation and positive with it (a direction in the null
    space of X scores 0, so aliased columns cannot cause a false positive).
    """
    s = np.where(y > 0.5, 1.0, -1.0)
    A = X * s[:, None]
    res = optimize.linprog(-A.sum(axis=0), A_ub=-A, b_ub=np.zeros(len(y)), bounds=[(-1, 1)] * X.shape[1],
                           method="highs")
    if res.status != 0:  # unbounded cannot happen with the box; treat any solver failure as "check by fit"
        return False
    return -res.fun > 1e-7 * max(1.0, len(y))


def _penalised_loglik(X: np.ndarray, k: np.ndarray, m: np.ndarray, beta: np.ndarray) -> float:
    eta = X @ beta
    loglik = float(np.sum(k * eta - m * np.logaddexp(0.0, eta)))
    pi = sps.logistic.cdf(eta)
    sign, logdet = np.linalg.slogdet(X.T @ (X * (m * pi * (1 - pi))[:, None]))
    return loglik + 0.5 * logdet if sign > 0 else -math.inf


def _firth_fit(X: np.ndarray, k: np.ndarray, m: np.ndarray, fixed: tuple[int, float] | None = None,
               start: np.ndarray | None = None, tol: float = 1e-10, max_iter: int = 200) -> tuple[np.ndarray, float]:
    """Firth's penalised maximum likelihood for grouped binomial data (k events in m trials per row).

    Maximises l*(β) = l(β) + ½ log det I(β), I = Xᵀ W X, W = diag(m π (1-π)), by Newton steps on
    Firth's modified score U*(β) = Xᵀ (k - m π + h (½ - π)), h the diagonal of W^½ X I⁻¹ Xᵀ W^½
    (Heinze & Schemper 2002; the same iteration as R's logistf, with step halving and a step cap of
    5). Grouping identical rows gives exactly the estimates of the ungrouped 0/1 data. With
    ``fixed=(j, v)`` coefficient j is held at v and the others maximise l* (for the profile).
    Returns (β, l*(β)). The estimate is finite even under separation.
    """
    p = X.shape[1]
    beta = np.zeros(p) if start is None else start.astype(float).copy()
    free = np.ones(p, dtype=bool)
    if fixed is not None:
        free[fixed[0]] = False
        beta[fixed[0]] = fixed[1]
    current = _penalised_loglik(X, k, m, beta)
    for _ in range(max_iter):
        pi = sps.logistic.cdf(X @ beta)
        w = m * pi * (1 - pi)
        info = X.T @ (X * w[:, None])
        cov = np.linalg.pinv(info)
        h = w * np.einsum("ij,jk,ik->i", X, cov, X)
        score = X.T @ (k - m * pi + h * (0.5 - pi))
        step = np.zeros(p)
        step[free] = np.linalg.lstsq(info[np.ix_(free, free)], score[free], rcond=None)[0]
        biggest = np.max(np.abs(step)) if p else 0.0
        if biggest > 5:
            step *= 5 / biggest
        for _half in range(40):
            trial = beta + step
            value = _penalised_loglik(X, k, m, trial)
            if value >= current - 1e-12:
                break
            step /= 2
        beta, current = trial, value
        if np.max(np.abs(step)) < tol:
            break
    return beta, current


def _firth_effects(X: np.ndarray, k: np.ndarray, m: np.ndarray, confidence: float = 0.95
                   ) -> list[tuple[float, float, float, float]]:
    """(coef, lo, hi, p) for every column of X: Firth estimate, profile penalised-likelihood interval
    and penalised likelihood-ratio p-value (χ²₁ reference), as logistf reports by default."""
    beta, top = _firth_fit(X, k, m)
    pi = sps.logistic.cdf(X @ beta)
    se = np.sqrt(np.diag(np.linalg.pinv(X.T @ (X * (m * pi * (1 - pi))[:, None]))))
    crit = float(sps.chi2.ppf(confidence, 1))
    out = []
    for j in range(X.shape[1]):
        def deviance(v: float, j: int = j) -> float:
            return 2 * (top - _firth_fit(X, k, m, fixed=(j, v), start=beta)[1])

        bounds = []
        for sign in (-1, 1):
            width = max(se[j], 0.1)
            edge = math.nan
            for _ in range(60):
                if deviance(beta[j] + sign * width) > crit:
                    lo_, hi_ = sorted((beta[j], beta[j] + sign * width))
                    edge = optimize.brentq(lambda v: deviance(v) - crit, lo_, hi_, xtol=1e-8)
                    break
                width *= 2
            else:
                edge = sign * math.inf
            bounds.append(edge)
        p_value = float(sps.chi2.sf(max(deviance(0.0), 0.0), 1))
        out.append((float(beta[j]), bounds[0], bounds[1], p_value))
    return out


_FIRTH_NOTE = ("{why}; fitted by Firth's penalised likelihood instead (profile penalised-likelihood 95% CI, "
               "penalised likelihood-ratio p)")


def family_info(result: SampleResult) -> "FamilyInfo":
    """What ``result``'s log says of its family; for results made without one, the registry's word."""
    from duress.family_info import describe

    return result.info or describe(result.family)


def factor_effects(results: Sequence[SampleResult], outcome: str, factors: Sequence[str] | None = None,
                   interactions: Sequence[tuple[str, str]] = ()) -> list[Effect]:
    """Odds ratios of ``outcome`` for each factor level (and chosen interactions), by logistic regression.

    Data: the judged samples of one family whose ``outcome`` was decided (excluded samples and
    undecided outcomes are left out). Model: logit P(outcome) = intercept + treatment-coded
    factors + products of the chosen interactions' dummies. The reference level of each factor is
    the first of its levels, in the family's declared order, that occurs in the data (for an
    unregistered family: order of appearance). ``factors=None`` uses every factor with more than one
    level among these samples, plus ``model`` (as a factor, reference = first model seen) when
    several models are present; otherwise the factors named (``"model"`` allowed). The intercept is
    not reported. Each odds ratio is adjusted for the other terms; with interactions, a main effect
    is the effect at the reference level of the interacting factor.

    Fitting: statsmodels ``Logit`` (Wald 95% CI and z-test, ``method="logit"``). If the data are
    separated — a cell, or a combination of cells, with the outcome in all or none of its samples,
    so the ML estimate is infinite — the fit is replaced by Firth's penalised logistic regression
    (``method="firth"``, ``note`` says why). Separation is detected exactly, by a linear program on
    the design (see ``_separated``), and also whenever statsmodels reports perfect separation or
    non-convergence or gives non-finite estimates.

    Returns [] when there is nothing to estimate: no decided sample, the outcome never or always
    happened (no odds ratio is defined; the caller should say so, e.g. "0/n: no model fitted"), or
    no factor varies. Raises ValueError for several families in ``results``, a named factor that is
    absent or does not vary, or an interaction of factors not in the model.
    """
    data = [(r, d) for r in results if (d := _decided(r, outcome)) is not None]
    if not data:
        return []
    families = list(dict.fromkeys(r.family for r, _ in data))
    if len(families) > 1:
        raise ValueError(f"factor effects are fitted one family at a time; got {', '.join(families)}")
    family = families[0]
    info = family_info(data[0][0])
    y = np.array([float(d) for _, d in data])
    if y.min() == y.max():
        return []

    def level(r: SampleResult, f: str) -> str | None:
        return r.model if f == "model" else r.factors.get(f)

    names = list(dict.fromkeys(f for r, _ in data for f in r.factors))
    if factors is None:
        chosen = [f for f in names if all(f in r.factors for r, _ in data) and len({r.factors[f] for r, _ in data}) > 1]
        if len({r.model for r, _ in data}) > 1:
            chosen.append("model")
    else:
        chosen = list(dict.fromkeys(factors))
        for f in chosen:
            present = {level(r, f) for r, _ in data}
            if None in present:
                raise ValueError(f"factor {f!r} is not set in every sample of {family}; factors: {', '.join(names)}")
            if len(present) < 2:
                raise ValueError(f"factor {f!r} does not vary among the decided samples ({present.pop()} only)")
    for pair in interactions:
        if len(pair) != 2 or pair[0] == pair[1] or any(f not in chosen for f in pair):
            raise ValueError(f"interaction {pair!r} must name two different factors of the model: {', '.join(chosen)}")
    if not chosen:
        return []

    columns: list[np.ndarray] = [np.ones(len(data))]
    terms: list[str] = ["(intercept)"]
    dummies: dict[str, list[tuple[str, np.ndarray]]] = {}
    for f in chosen:
        levels = _level_order(info, f, (level(r, f) for r, _ in data))
        ref = levels[0]
        dummies[f] = []
        for lv in levels[1:]:
            col = np.array([1.0 if level(r, f) == lv else 0.0 for r, _ in data])
            dummies[f].append((f"{f}={lv} vs {ref}", col))
            terms.append(f"{f}={lv} vs {ref}")
            columns.append(col)
    for f1, f2 in interactions:
        for t1, c1 in dummies[f1]:
            for t2, c2 in dummies[f2]:
                terms.append(f"{t1} × {t2}")
                columns.append(c1 * c2)
    X_all = np.column_stack(columns)

    # Columns the data cannot estimate (aliased with earlier ones) are dropped and reported as such.
    keep: list[int] = []
    for j in range(X_all.shape[1]):
        if np.linalg.matrix_rank(X_all[:, keep + [j]]) == len(keep) + 1:
            keep.append(j)
    X = X_all[:, keep]

    estimates: dict[int, tuple[float, float, float, float]] = {}
    method, note = "logit", ""
    why = ""
    if _separated(X, y):
        why = ("the outcome is perfectly or quasi-completely separated by the factors (some level or combination "
               "of levels has it in all or none of its samples), so ordinary maximum likelihood has no finite "
               "estimate")
    else:
        import statsmodels.api as sm
        from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationError, PerfectSeparationWarning

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                fit = sm.Logit(y, X).fit(method="newton", maxiter=100, disp=0)
            except (PerfectSeparationError, np.linalg.LinAlgError) as err:
                fit, why = None, f"the maximum-likelihood fit failed ({type(err).__name__})"
        if fit is not None:
            kinds = {w.category for w in caught}
            if PerfectSeparationWarning in kinds:
                why = "statsmodels reported perfect separation (no finite maximum-likelihood estimate)"
            elif ConvergenceWarning in kinds or not fit.mle_retvals.get("converged", False):
                why = "the maximum-likelihood fit did not converge (usually near-separation: estimates running off "\
                      "to infinity)"
            elif not (np.all(np.isfinite(fit.params)) and np.all(np.isfinite(fit.bse))):
                why = "the maximum-likelihood fit gave non-finite estimates"
            else:
                ci = fit.conf_int(alpha=0.05)
                for i, j in enumerate(keep):
                    estimates[j] = (float(fit.params[i]), float(ci[i, 0]), float(ci[i, 1]), float(fit.pvalues[i]))
    if why:
        method, note = "firth", _FIRTH_NOTE.format(why=why[0].upper() + why[1:])
        pattern, inverse = np.unique(X, axis=0, return_inverse=True)
        inverse = inverse.ravel()
        k = np.bincount(inverse, weights=y, minlength=len(pattern))
        m = np.bincount(inverse, minlength=len(pattern)).astype(float)
        for j, est in zip(keep, _firth_effects(pattern, k, m)):
            estimates[j] = est

    out: list[Effect] = []
    for j, term in enumerate(terms):
        if j == 0:
            continue
        if j not in estimates:
            out.append(Effect(outcome, term, math.nan, math.nan, math.nan, math.nan, method,
                              "not estimable: this column is a linear combination of the others in the decided "
                              "samples (e.g. a combination of levels with no decided sample)"))
            continue
        coef, lo, hi, p = estimates[j]
        out.append(Effect(outcome, term, math.exp(coef), math.exp(lo), math.exp(hi), p, method, note))
    return out


# --- planning ------------------------------------------------------------------------------

def _wilson_halfwidth_at(p: float, n: float, z: float) -> float:
    """Half-width of the Wilson interval at observed rate p and sample size n, as a continuous
    function: z/(1 + z²/n) · sqrt(p(1-p)/n + z²/(4n²)). Strictly decreasing in n for every p."""
    return z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))


def wilson_halfwidth(k: int, n: int, confidence: float = 0.95) -> float:
    """Half the width of the Wilson interval for k of n, (hi - lo) / 2 (``n`` > 0).

    The Wilson interval is not symmetric about k/n, so this is a precision measure, not a ± around
    the rate."""
    lo, hi = wilson(k, n, confidence)
    return (hi - lo) / 2


def samples_for_halfwidth(p: float, halfwidth: float, confidence: float = 0.95) -> int:
    """Smallest n whose Wilson interval half-width, at an expected rate ``p``, is at most ``halfwidth``.

    Uses the half-width as a continuous function of p and n (the Wilson formula with k/n = p; it
    equals ``wilson_halfwidth(k, n)`` whenever p·n is the integer k). It is largest at p = 0.5, so
    ``samples_for_halfwidth(0.5, h)`` is the worst case: 381 for h = 0.05 at 95% (the Wald formula
    would say 385). Raises ValueError unless 0 <= p <= 1 and 0 < halfwidth < 0.5.
    """
    if not 0 <= p <= 1:
        raise ValueError(f"p must be between 0 and 1, not {p}")
    if not 0 < halfwidth < 0.5:
        raise ValueError(f"halfwidth must be between 0 and 0.5 (exclusive), not {halfwidth}")
    z = _z(confidence)
    hi = 1
    while _wilson_halfwidth_at(p, hi, z) > halfwidth:
        hi *= 2
    lo = hi // 2  # the half-width at lo is above the target (or lo == 0)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _wilson_halfwidth_at(p, mid, z) <= halfwidth:
            hi = mid
        else:
            lo = mid
    return hi


def samples_for_difference(p1: float, p2: float, power: float = 0.8, alpha: float = 0.05) -> int:
    """Samples per group to detect rates p1 vs p2 with a two-sided test at level ``alpha`` with ``power``.

    Normal approximation on the arcsine scale: Cohen's h = 2·asin(√p1) - 2·asin(√p2)
    (statsmodels ``proportion_effectsize``), n = ``NormalIndPower().solve_power`` with equal group
    sizes, rounded up; n ≈ 2·((z₁₋α/₂ + z_power) / h)² (the arcsine transform has variance 1/(4n) per
    group, so 1/n for 2·asin, 2/n for the difference). An approximation: an exact
    test (Fisher) on that many samples has somewhat less power, and rates near 0 or 1 need care.
    No multiplicity correction: with Holm over m comparisons, plan with alpha/m to be safe.
    """
    for name, v in (("p1", p1), ("p2", p2)):
        if not 0 <= v <= 1:
            raise ValueError(f"{name} must be between 0 and 1, not {v}")
    if p1 == p2:
        raise ValueError("p1 and p2 are equal: no sample size detects a zero difference")
    if not 0 < power < 1 or not 0 < alpha < 1:
        raise ValueError("power and alpha must be between 0 and 1")
    h = proportion_effectsize(p1, p2)
    n = NormalIndPower().solve_power(effect_size=abs(h), alpha=alpha, power=power, ratio=1.0, alternative="two-sided")
    return int(math.ceil(float(np.asarray(n).item()) - 1e-9))


# --- sequential sampling to a precision target (--until-ci) ---------------------------------

def next_round(counts: Mapping[str, tuple[int, int]], target: float, max_samples: int, batch: int) -> dict[str, int]:
    """How many more samples each condition needs next round to reach a target interval precision.

    ``counts`` maps a key (a condition id) to (k, n) so far; the caller passes, per condition, the
    outcome whose 95% Wilson interval is widest (the worst case over outcomes). A key gets 0 if its
    Wilson half-width is <= ``target`` or n >= ``max_samples``, else ``min(batch, max_samples - n)``
    (a key with n = 0 gets ``min(batch, max_samples)``).

    This rule targets PRECISION (stop once each rate is known to ±target), not repeated significance
    testing: it never looks at a difference between conditions or at a p-value, so it does not
    inflate false-positive rates the way "sample until p < 0.05" does. The stopping time still
    depends on the data (rates near 0 or 1 stop earlier), which can move the final intervals'
    coverage slightly off nominal; :func:`simulate_sequential` measures that.
    """
    if not 0 < target < 0.5:
        raise ValueError(f"target half-width must be between 0 and 0.5, not {target}")
    if max_samples < 1 or batch < 1:
        raise ValueError("max_samples and batch must be at least 1")
    out: dict[str, int] = {}
    for key, (k, n) in counts.items():
        if n >= max_samples:
            out[key] = 0
        elif n > 0 and wilson_halfwidth(k, n) <= target:
            out[key] = 0
        else:
            out[key] = min(batch, max_samples - n)
    return out


def simulate_sequential(rate: float, target: float, max_samples: int, batch: int, reps: int, seed: int) -> dict:
    """Simulate :func:`next_round` on Bernoulli(``rate``) samples, ``reps`` times.

    Each repetition starts at (0, 0) and runs rounds of ``next_round`` (draws of a round are
    Bernoulli(rate) samples, summed) until it asks for no more samples. Returns
    ``{"coverage": share of repetitions whose final 95% Wilson interval contains rate,
    "mean_n": mean samples used, "fixed_n": samples_for_halfwidth(0.5, target)}`` — the fixed-n
    design that guarantees the same half-width at any rate, for comparison. Reproducible: numpy
    ``default_rng(seed)``.
    """
    if not 0 <= rate <= 1:
        raise ValueError(f"rate must be between 0 and 1, not {rate}")
    if reps < 1:
        raise ValueError("reps must be at least 1")
    rng = np.random.default_rng(seed)
    counts = {str(i): (0, 0) for i in range(reps)}
    while True:
        todo = {key: m for key, m in next_round(counts, target, max_samples, batch).items() if m}
        if not todo:
            break
        for key, m in todo.items():
            k, n = counts[key]
            counts[key] = (k + int((rng.random(m) < rate).sum()), n + m)
    covered = 0
    for k, n in counts.values():
        lo, hi = wilson(k, n)
        covered += lo <= rate <= hi
    return {"coverage": covered / reps, "mean_n": float(np.mean([n for _, n in counts.values()])),
            "fixed_n": samples_for_halfwidth(0.5, target)}
