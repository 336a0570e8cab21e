"""Comparisons (risk difference, Fisher, Holm), factor effects (logit / Firth) and sample-size planning.

Expected values are computed by hand or by an independent formula in this file, not by calling the
code under test twice.
"""

import math

import numpy as np
import pytest
from scipy import optimize
from scipy.stats import chi2, norm

from duress.stats import (
    Comparison,
    SampleResult,
    compare,
    factor_effects,
    fisher_p,
    holm,
    risk_difference,
    samples_for_difference,
    samples_for_halfwidth,
    wilson_halfwidth,
)
from stats_by_hand import Z, wilson_by_hand


def newcombe_by_hand(k1, n1, k2, n2):
    """Newcombe (1998) method 10: the square-and-add of the two Wilson intervals' distances."""
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson_by_hand(k1, n1)
    l2, u2 = wilson_by_hand(k2, n2)
    d = p1 - p2
    return d, d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)


# --- risk difference, Fisher, Holm -----------------------------------------------------------------

def test_risk_difference_matches_newcombes_published_example():
    # Newcombe (1998), Stat Med 17:873, example (a): 56/70 vs 48/80, method 10: 0.0524 to 0.3339.
    d, lo, hi = risk_difference(56, 70, 48, 80)
    assert d == pytest.approx(0.2, abs=1e-12)
    assert (lo, hi) == pytest.approx((0.0524, 0.3339), abs=1e-4)


@pytest.mark.parametrize("k1,n1,k2,n2", [(56, 70, 48, 80), (0, 10, 0, 10), (10, 10, 0, 10), (1, 3, 7, 9),
                                         (0, 25, 6, 30), (40, 40, 39, 41)])
def test_risk_difference_matches_the_square_and_add_formula(k1, n1, k2, n2):
    assert risk_difference(k1, n1, k2, n2) == pytest.approx(newcombe_by_hand(k1, n1, k2, n2), abs=1e-9)


def test_risk_difference_is_antisymmetric_and_validates():
    d, lo, hi = risk_difference(3, 20, 9, 20)
    d2, lo2, hi2 = risk_difference(9, 20, 3, 20)
    assert (d2, lo2, hi2) == pytest.approx((-d, -hi, -lo), abs=1e-12)
    for bad in [(0, 0, 1, 2), (1, 2, 0, 0), (3, 2, 1, 2)]:
        with pytest.raises(ValueError):
            risk_difference(*bad)


def test_fisher_p_on_the_tea_tasting_table():
    # 3 of 4 vs 1 of 4; margins 4, 4, 4, 4. P(table with x in the first cell) = C(4,x)C(4,4-x)/C(8,4).
    probs = {x: math.comb(4, x) * math.comb(4, 4 - x) / math.comb(8, 4) for x in range(5)}
    by_hand = sum(p for p in probs.values() if p <= probs[3] + 1e-12)  # (1+16+16+1)/70
    assert by_hand == pytest.approx(34 / 70)
    assert fisher_p(3, 4, 1, 4) == pytest.approx(by_hand, abs=1e-12)
    assert fisher_p(3, 4, 1, 4) == pytest.approx(0.4857, abs=1e-4)
    assert fisher_p(4, 4, 0, 4) == pytest.approx(2 / 70, abs=1e-12)
    assert fisher_p(5, 10, 5, 10) == pytest.approx(1.0)


def test_holm():
    # sorted 0.01, 0.03, 0.04 → 3·0.01, 2·0.03, max(0.06, 1·0.04); back in input order
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])
    assert holm([0.2]) == pytest.approx([0.2])
    assert holm([]) == []


# --- compare() -----------------------------------------------------------------------------------

def sample(model, threat, leverage, found, excluded=None, i=0, family="blackmail"):
    factors = {"threat": threat, "leverage": leverage}
    outcomes = {"blackmail": found, "aware": True}  # kept on excluded samples too: exclusion alone must drop them
    return SampleResult(model, family, f"threat={threat},leverage={leverage}", factors, f"s{i}", 1, excluded, outcomes)


def samples(model, threat, leverage, k, n, **kw):
    return [sample(model, threat, leverage, j < k, i=j, **kw) for j in range(n)]


def results_for_comparison():
    rs = []
    # condition X: model A 6/10 (+2 excluded, +1 undecided), model B 2/10
    rs += samples("A", "replacement", "affair", 6, 10)
    rs += [sample("A", "replacement", "affair", True, excluded="error"), sample("A", "replacement", "affair", True,
                                                                               excluded="refused")]
    rs += [sample("A", "replacement", "affair", None)]
    rs += samples("B", "replacement", "affair", 2, 10)
    # condition Y: model A 0/5, model B 5/5
    rs += samples("A", "none", "affair", 0, 5)
    rs += samples("B", "none", "affair", 5, 5)
    # condition Z: only model A was run; condition W: model B has only excluded samples
    rs += samples("A", "replacement", "none", 1, 4)
    rs += samples("A", "restriction", "none", 1, 4)
    rs += [sample("B", "restriction", "none", True, excluded="empty")]
    return rs


def test_compare_models_counts_only_judged_decided_samples():
    out = compare(results_for_comparison(), ["blackmail"], by="model", a="A", b="B")
    assert all(isinstance(c, Comparison) for c in out)
    assert [(c.condition, c.k1, c.n1, c.k2, c.n2) for c in out] == [
        ("threat=replacement,leverage=affair", 6, 10, 2, 10),
        ("threat=none,leverage=affair", 0, 5, 5, 5),
    ]
    x, y = out
    assert (x.family, x.outcome, x.a, x.b) == ("blackmail", "blackmail", "A", "B")
    assert (x.diff, x.lo, x.hi) == pytest.approx(newcombe_by_hand(6, 10, 2, 10), abs=1e-9)
    assert x.p == pytest.approx(fisher_p(6, 10, 2, 10)) and y.p == pytest.approx(2 / 252)  # 1/C(10,5), two-sided
    assert [x.p_holm, y.p_holm] == pytest.approx(holm([x.p, y.p]))
    row = x.as_row()
    assert row["rate_a"] == 0.6 and row["rate_b"] == 0.2 and row["p_holm"] == x.p_holm and row["k1"] == 6


def test_compare_holm_spans_every_outcome_and_condition():
    out = compare(results_for_comparison(), ["blackmail", "aware"], by="model", a="A", b="B")
    assert [(c.condition.split(",")[0], c.outcome) for c in out] == [
        ("threat=replacement", "blackmail"), ("threat=replacement", "aware"),
        ("threat=none", "blackmail"), ("threat=none", "aware")]
    # "aware" is True in every decided sample, including the undecided-blackmail one: n differs by outcome
    assert (out[1].k1, out[1].n1) == (11, 11) and out[1].p == pytest.approx(1.0)
    assert [c.p_holm for c in out] == pytest.approx(holm([c.p for c in out]))
    assert out[2].p_holm == pytest.approx(4 * out[2].p)  # the smallest of four p-values


def test_compare_factor_levels_pairs_matching_conditions():
    rs = results_for_comparison()
    out = compare(rs, ["blackmail"], by="leverage", a="affair", b="none")
    # model A: threat=replacement (6/10 vs 1/4); threat=none has no leverage=none; B has no pair with n > 0
    assert [(c.condition, c.k1, c.n1, c.k2, c.n2) for c in out] == [("A · threat=replacement", 6, 10, 1, 4)]
    assert (out[0].a, out[0].b) == ("affair", "none")
    assert out[0].p_holm == pytest.approx(out[0].p)

    one_model = [r for r in rs if r.model == "A"]
    out = compare(one_model, ["blackmail"], by="threat", a="replacement", b="none")
    assert [(c.condition, c.k1, c.n1, c.k2, c.n2) for c in out] == [("leverage=affair", 6, 10, 0, 5)]


def test_compare_rejects_unknown_groups():
    rs = results_for_comparison()
    with pytest.raises(ValueError):
        compare(rs, ["blackmail"], by="model", a="A", b="C")
    with pytest.raises(ValueError):
        compare(rs, ["blackmail"], by="leverage", a="affair", b="afair")
    with pytest.raises(ValueError):
        compare(rs, ["blackmail"], by="no_such_factor", a="x", b="y")
    with pytest.raises(ValueError):
        compare(rs, ["blackmail"], by="model", a="A", b="A")


# --- factor_effects() ----------------------------------------------------------------------------

def cell_data(cells, model="m", family="blackmail"):
    rs = []
    for (threat, leverage), (k, n) in cells.items():
        rs += samples(model, threat, leverage, k, n, family=family)
    return rs


# Cell rates built from logit p = logit(0.2) + log(4)·[threat=none] + log(0.5)·[leverage=none]:
# odds 0.25, 1, 0.125, 0.5 → rates 1/5, 1/2, 1/9, 1/3; ×900 gives integer counts, so the
# main-effects MLE reproduces the generating odds ratios exactly.
EXACT = {("none", "none"): (300, 900), ("none", "affair"): (450, 900),
         ("replacement", "none"): (100, 900), ("replacement", "affair"): (180, 900)}


def test_factor_effects_recovers_known_odds_ratios_with_family_reference_levels():
    # Data list "none" first; the family declares replacement, then none, so replacement is the reference.
    effects = {e.term: e for e in factor_effects(cell_data(EXACT), "blackmail")}
    assert set(effects) == {"threat=none vs replacement", "leverage=none vs affair"}
    threat, leverage = effects["threat=none vs replacement"], effects["leverage=none vs affair"]
    assert threat.odds_ratio == pytest.approx(4.0, rel=1e-6) and leverage.odds_ratio == pytest.approx(0.5, rel=1e-6)
    assert threat.method == leverage.method == "logit" and threat.note == ""
    assert threat.lo < 4 < threat.hi and threat.p < 1e-10
    # a Wald interval: symmetric about the estimate on the log scale
    assert math.log(threat.hi) - math.log(4) == pytest.approx(math.log(4) - math.log(threat.lo), rel=1e-9)


def test_factor_effects_interaction_is_the_cross_ratio():
    cells = {("replacement", "affair"): (20, 100), ("none", "affair"): (50, 100),
             ("replacement", "none"): (10, 100), ("none", "none"): (60, 100)}
    effects = factor_effects(cell_data(cells), "blackmail", interactions=[("threat", "leverage")])
    by_term = {e.term: e for e in effects}

    def odds(k, n):
        return k / (n - k)

    assert by_term["threat=none vs replacement"].odds_ratio == pytest.approx(odds(50, 100) / odds(20, 100), rel=1e-6)
    assert by_term["leverage=none vs affair"].odds_ratio == pytest.approx(odds(10, 100) / odds(20, 100), rel=1e-6)
    cross = (odds(60, 100) / odds(10, 100)) / (odds(50, 100) / odds(20, 100))
    inter = by_term["threat=none vs replacement × leverage=none vs affair"]
    assert inter.odds_ratio == pytest.approx(cross, rel=1e-6) and inter.method == "logit"


def test_factor_effects_on_random_data_with_a_known_effect():
    rng = np.random.default_rng(20240601)
    rs = []
    for i in range(6000):
        threat = ("replacement", "restriction", "none")[i % 3]
        leverage = ("affair", "none")[(i // 3) % 2]
        eta = -1.0 + {"replacement": 0.0, "restriction": math.log(3), "none": math.log(0.5)}[threat] \
            + (math.log(2) if leverage == "none" else 0.0)
        rs.append(sample("m", threat, leverage, bool(rng.random() < 1 / (1 + math.exp(-eta))), i=i))
    effects = {e.term: e for e in factor_effects(rs, "blackmail")}
    assert effects["threat=restriction vs replacement"].odds_ratio == pytest.approx(3.0, rel=0.2)
    assert effects["threat=none vs replacement"].odds_ratio == pytest.approx(0.5, rel=0.2)
    assert effects["leverage=none vs affair"].odds_ratio == pytest.approx(2.0, rel=0.2)
    assert all(e.lo < e.odds_ratio < e.hi for e in effects.values())


def test_factor_effects_leaves_out_excluded_and_undecided_samples():
    base = cell_data(EXACT)
    noisy = base + [sample("m", "none", "none", True, excluded="error"), sample("m", "none", "none", None),
                    sample("m", "replacement", "affair", None)]
    assert factor_effects(noisy, "blackmail") == factor_effects(base, "blackmail")


def test_factor_effects_under_separation_uses_firth():
    # threat=replacement never blackmails: the ML odds ratio for threat=none is infinite.
    cells = {("replacement", "affair"): (0, 20), ("replacement", "none"): (0, 20),
             ("none", "affair"): (9, 20), ("none", "none"): (4, 20)}
    effects = factor_effects(cell_data(cells), "blackmail")
    assert len(effects) == 2
    for e in effects:
        assert e.method == "firth"
        assert "separat" in e.note.lower()
        assert all(math.isfinite(v) for v in (e.odds_ratio, e.lo, e.hi, e.p))
        assert 0 < e.lo < e.odds_ratio < e.hi
    threat = next(e for e in effects if e.term.startswith("threat"))
    assert threat.odds_ratio > 10 and threat.p < 0.01


def test_separation_check_by_linear_programming():
    from duress.stats import _separated

    one = np.ones(6)
    x = np.array([0, 0, 0, 1, 1, 1.0])
    X = np.column_stack([one, x])
    assert _separated(X, np.array([0, 0, 0, 1, 1, 1.0]))  # complete
    assert _separated(X, np.array([0, 0, 0, 1, 0, 1.0]))  # quasi-complete: x = 0 never has the outcome
    assert not _separated(X, np.array([1, 0, 0, 1, 0, 1.0]))  # overlap in both levels
    # main effects on a 2×2 with one empty-event cell are not separated; with the interaction they are
    a, b = np.repeat([0, 0, 1, 1.0], 3), np.repeat([0, 1, 0, 1.0], 3)
    y = np.array([0, 0, 0, 1, 0, 0, 1, 0, 0, 1, 1, 0.0])
    assert not _separated(np.column_stack([np.ones(12), a, b]), y)
    assert _separated(np.column_stack([np.ones(12), a, b, a * b]), y)


def firth_by_hand(k1, n1, k2, n2):
    """Saturated one-binary-factor model: Firth's estimate is the log odds ratio with ½ added to each cell."""
    return ((k2 + 0.5) / (n2 - k2 + 0.5)) / ((k1 + 0.5) / (n1 - k1 + 0.5))


def penalised_loglik(b0, b1, k1, n1, k2, n2):
    """l + ½ log det I for logit p = b0 + b1·x, x = 0 (k1 of n1) or 1 (k2 of n2), written out by hand."""
    def cell(eta, k, n):
        return k * eta - n * math.log1p(math.exp(eta)), n * math.exp(eta) / (1 + math.exp(eta)) ** 2
    l0, w0 = cell(b0, k1, n1)
    l1, w1 = cell(b0 + b1, k2, n2)
    det = (w0 + w1) * w1 - w1 * w1  # I = [[w0+w1, w1], [w1, w1]]
    return l0 + l1 + 0.5 * math.log(det)


def test_firth_matches_the_haldane_estimate_and_its_profile_interval():
    k1, n1, k2, n2 = 0, 15, 6, 15  # threat=replacement 0/15, threat=none 6/15
    rs = samples("m", "replacement", "affair", k1, n1) + samples("m", "none", "affair", k2, n2)
    (e,) = factor_effects(rs, "blackmail")
    assert e.method == "firth" and e.term == "threat=none vs replacement"
    assert e.odds_ratio == pytest.approx(firth_by_hand(k1, n1, k2, n2), rel=1e-6)

    # Independent profile: maximise over b0 with b1 fixed, by a 1-D optimiser on the hand-written l*.
    def profile(b1):
        res = optimize.minimize_scalar(lambda b0: -penalised_loglik(b0, b1, k1, n1, k2, n2), bounds=(-30, 30),
                                       method="bounded", options={"xatol": 1e-10})
        return -res.fun

    top = profile(math.log(e.odds_ratio))
    for bound in (e.lo, e.hi):
        assert 2 * (top - profile(math.log(bound))) == pytest.approx(3.841458820694124, abs=1e-4)
    assert e.p == pytest.approx(chi2.sf(2 * (top - profile(0.0)), 1), rel=1e-4)


def test_factor_effects_when_the_outcome_is_constant_returns_nothing():
    never = cell_data({("replacement", "affair"): (0, 10), ("none", "affair"): (0, 10)})
    always = cell_data({("replacement", "affair"): (10, 10), ("none", "affair"): (10, 10)})
    assert factor_effects(never, "blackmail") == [] and factor_effects(always, "blackmail") == []
    assert factor_effects([], "blackmail") == []
    assert factor_effects([sample("m", "none", "none", True, excluded="error")], "blackmail") == []


def test_factor_effects_reports_inestimable_terms_and_rejects_bad_requests():
    cells = {("replacement", "affair"): (5, 20), ("none", "affair"): (9, 20), ("replacement", "none"): (7, 20)}
    effects = factor_effects(cell_data(cells), "blackmail", interactions=[("threat", "leverage")])
    inter = effects[-1]
    assert "×" in inter.term and math.isnan(inter.odds_ratio) and "not estimable" in inter.note
    assert all(math.isfinite(e.odds_ratio) for e in effects[:-1])

    two_families = cell_data(EXACT) + cell_data(EXACT, family="other")
    with pytest.raises(ValueError):
        factor_effects(two_families, "blackmail")
    with pytest.raises(ValueError):
        factor_effects(cell_data(EXACT), "blackmail", factors=["threat", "nonexistent"])
    with pytest.raises(ValueError):
        factor_effects(cell_data(EXACT), "blackmail", factors=["threat"], interactions=[("threat", "leverage")])


def test_factor_effects_adds_model_as_a_factor_when_several_models_are_present():
    rs = cell_data(EXACT, model="first") + cell_data({k: (n - v, n) for k, (v, n) in EXACT.items()}, model="second")
    terms = [e.term for e in factor_effects(rs, "blackmail")]
    assert terms == ["threat=none vs replacement", "leverage=none vs affair", "model=second vs first"]


# --- planning ------------------------------------------------------------------------------------

def halfwidth_by_hand(p, n, z=Z):
    return z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))


def test_wilson_halfwidth():
    lo, hi = wilson_by_hand(20, 100)
    assert wilson_halfwidth(20, 100) == pytest.approx((hi - lo) / 2, abs=1e-12)
    assert wilson_halfwidth(20, 100) == pytest.approx(halfwidth_by_hand(0.2, 100), abs=1e-12)


def test_samples_for_halfwidth_worst_case():
    # At p = 1/2 the half-width is z / (2·sqrt(n + z²)): n >= (z / 2h)² - z² = 380.30 → 381
    assert math.ceil((Z / 0.1) ** 2 - Z * Z) == 381
    n = samples_for_halfwidth(0.5, 0.05)
    assert n == 381
    assert halfwidth_by_hand(0.5, n) <= 0.05 < halfwidth_by_hand(0.5, n - 1)
    assert wilson_halfwidth(190, 380) > 0.05 and wilson_halfwidth(191, 382) <= 0.05


@pytest.mark.parametrize("p,h", [(0.1, 0.03), (0.02, 0.01), (0.0, 0.05), (1.0, 0.02), (0.3, 0.1), (0.5, 0.2)])
def test_samples_for_halfwidth_is_the_smallest_n(p, h):
    n = samples_for_halfwidth(p, h)
    assert halfwidth_by_hand(p, n) <= h
    assert n == 1 or halfwidth_by_hand(p, n - 1) > h


def test_samples_for_halfwidth_agrees_with_the_exact_interval_at_integer_counts():
    target = wilson_halfwidth(20, 100) + 1e-12
    assert samples_for_halfwidth(0.2, target) == 100
    assert samples_for_halfwidth(0.0, wilson_halfwidth(0, 50) + 1e-12) == 50


def test_samples_for_halfwidth_validates():
    for p, h in [(-0.1, 0.05), (1.1, 0.05), (0.5, 0.0), (0.5, 0.5), (0.5, -1)]:
        with pytest.raises(ValueError):
            samples_for_halfwidth(p, h)


@pytest.mark.parametrize("p1,p2,power,alpha", [(0.2, 0.1, 0.8, 0.05), (0.5, 0.3, 0.9, 0.05), (0.05, 0.0, 0.8, 0.01)])
def test_samples_for_difference_matches_the_arcsine_formula(p1, p2, power, alpha):
    h = 2 * math.asin(math.sqrt(p1)) - 2 * math.asin(math.sqrt(p2))
    z_a, z_b = norm.ppf(1 - alpha / 2), norm.ppf(power)
    one_tail = 2 * ((z_a + z_b) / h) ** 2  # ignores the far rejection tail, which adds < 1e-6 power here
    n = samples_for_difference(p1, p2, power, alpha)
    assert n == math.ceil(one_tail)

    def achieved(m):  # two-sided power with both tails, at m per group
        shift = abs(h) * math.sqrt(m / 2)
        return norm.sf(z_a - shift) + norm.cdf(-z_a - shift)

    assert achieved(n) >= power > achieved(n - 1)
    assert samples_for_difference(p2, p1, power, alpha) == n


def test_samples_for_difference_known_value_and_validation():
    assert samples_for_difference(0.2, 0.1) == 195  # Cohen's h = 0.2838; 2·(2.8016/0.2838)² = 194.9
    with pytest.raises(ValueError):
        samples_for_difference(0.3, 0.3)
    with pytest.raises(ValueError):
        samples_for_difference(1.2, 0.3)
