"""The --until-ci stopping rule (sample each condition until its Wilson interval is narrow enough)."""

import math

import numpy as np
import pytest
from scipy.stats import binom

from duress.stats import next_round, samples_for_halfwidth, simulate_sequential
from stats_by_hand import halfwidth_by_hand, wilson_by_hand


def test_next_round_stops_precise_and_capped_conditions():
    # 0/40: half-width 0.0438 <= 0.05; 0/30: 0.0568 > 0.05; 20/40: 0.1477; 150/300 capped at max 300
    assert halfwidth_by_hand(0, 40) <= 0.05 < halfwidth_by_hand(0, 30)
    counts = {"precise": (0, 40), "wide": (0, 30), "half": (20, 40), "capped": (150, 300), "near_cap": (140, 290)}
    assert next_round(counts, target=0.05, max_samples=300, batch=20) == {
        "precise": 0, "wide": 20, "half": 20, "capped": 0, "near_cap": 10}


def test_next_round_starts_empty_conditions_and_respects_small_caps():
    assert next_round({"new": (0, 0)}, target=0.05, max_samples=400, batch=20) == {"new": 20}
    assert next_round({"new": (0, 0)}, target=0.05, max_samples=8, batch=20) == {"new": 8}
    assert next_round({"over": (5, 500)}, target=0.01, max_samples=400, batch=20) == {"over": 0}
    assert next_round({}, target=0.05, max_samples=400, batch=20) == {}


def test_next_round_threshold_is_inclusive():
    # 191/382 has half-width just under 0.05 and 190/380 just over (the worst case needs n = 381)
    assert halfwidth_by_hand(191, 382) <= 0.05 < halfwidth_by_hand(190, 380)
    assert next_round({"a": (191, 382), "b": (190, 380)}, 0.05, 1000, 20) == {"a": 0, "b": 20}


def test_next_round_validates():
    for target, mx, batch in [(0.0, 100, 10), (0.5, 100, 10), (0.05, 0, 10), (0.05, 100, 0)]:
        with pytest.raises(ValueError):
            next_round({"a": (0, 0)}, target, mx, batch)


def exact_sequential(rate, target, max_samples, batch):
    """Exact coverage and mean n of the rule, by propagating the distribution of k batch by batch."""
    live = np.zeros(1)
    live[0] = 1.0  # P(k successes so far, still sampling)
    n, coverage, mean_n = 0, 0.0, 0.0
    while live.any():
        m = min(batch, max_samples - n)
        live = np.convolve(live, binom.pmf(np.arange(m + 1), m, rate))
        n += m
        for k in range(len(live)):
            if live[k] and (n >= max_samples or halfwidth_by_hand(k, n) <= target):
                lo, hi = wilson_by_hand(k, n)
                coverage += live[k] * (lo <= rate <= hi)
                mean_n += live[k] * n
                live[k] = 0.0
    return coverage, mean_n


@pytest.mark.parametrize("rate", [0.05, 0.5, 0.9])
def test_simulated_coverage_stays_near_nominal(rate):
    reps = 400
    sim = simulate_sequential(rate, target=0.05, max_samples=400, batch=20, reps=reps, seed=12345)
    assert set(sim) == {"coverage", "mean_n", "fixed_n"}
    assert 0.90 <= sim["coverage"] <= 0.99
    # The simulation agrees with the exact coverage of the rule (0.978, 0.955, 0.942) within sampling error.
    coverage, mean_n = exact_sequential(rate, 0.05, 400, 20)
    assert 0.90 <= coverage <= 0.99
    assert abs(sim["coverage"] - coverage) <= 3.5 * math.sqrt(coverage * (1 - coverage) / reps)
    assert sim["mean_n"] == pytest.approx(mean_n, rel=0.1)
    assert sim["fixed_n"] == samples_for_halfwidth(0.5, 0.05) == 381
    assert 20 <= sim["mean_n"] <= 400
    assert round(sim["mean_n"] * 400) % 20 == 0  # every rep ran whole batches of 20


def test_rare_outcomes_stop_far_earlier_than_the_fixed_design():
    sim = simulate_sequential(0.05, target=0.05, max_samples=400, batch=20, reps=400, seed=12345)
    # At p = 0.05 the Wilson half-width reaches 0.05 near n = 90, versus 381 for the worst case.
    assert sim["mean_n"] < 0.5 * sim["fixed_n"]
    assert sim["mean_n"] == pytest.approx(90, abs=20)


def test_rates_near_one_half_run_to_the_worst_case():
    sim = simulate_sequential(0.5, target=0.05, max_samples=400, batch=20, reps=200, seed=3)
    assert sim["mean_n"] >= 380  # batches of 20: 380 is just short of 381, so nearly every rep goes to 400


def test_simulation_is_reproducible_and_respects_the_cap():
    a = simulate_sequential(0.3, target=0.05, max_samples=100, batch=20, reps=100, seed=7)
    b = simulate_sequential(0.3, target=0.05, max_samples=100, batch=20, reps=100, seed=7)
    assert a == b
    assert a["mean_n"] == 100  # at rate 0.3 the target needs ~320 samples: every rep stops at the cap
    certain = simulate_sequential(0.0, target=0.05, max_samples=400, batch=20, reps=50, seed=1)
    assert certain == {"coverage": 1.0, "mean_n": 40.0, "fixed_n": 381}  # 0/20: hw 0.081; 0/40: 0.044
