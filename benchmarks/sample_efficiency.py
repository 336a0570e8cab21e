"""Sample efficiency of sequential sampling (``duress run --until-ci``) vs a fixed-n design.

Pure, seeded simulation of a realistic factorial design: 16 conditions whose true rates are spread
as published agentic-misalignment results are (many conditions near 0% — controls, guardrails,
no threat — several near 100% for the most affected models, a few in between).

- sequential: ``duress.stats.next_round`` applied to all conditions at once, round after round
  (exactly what ``duress run --until-ci`` does), target half-width 0.05, at most 400 samples,
  batch 20 per round; each condition's samples are Bernoulli(true rate).
- fixed: ``duress.stats.samples_for_halfwidth(0.5, 0.05)`` samples per condition (381), the
  fixed design with the same worst-case 95% Wilson half-width.

Reported: samples used (mean, 5th–95th percentile over replicate designs), rounds (each round is
one Inspect eval), the coverage of the final 95% Wilson intervals (share containing the true
rate), per condition and overall, and the widest final half-width. ``duress.stats.simulate_sequential``
(the project's own per-rate simulation) is run too, as a cross-check of the mean samples and coverage.

    python benchmarks/sample_efficiency.py                  # ~1 min: 1000 replicate designs
    python benchmarks/sample_efficiency.py --reps 10000
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, table, write_result  # noqa: E402

from duress.stats import next_round, samples_for_halfwidth, simulate_sequential, wilson  # noqa: E402

# -- parameters ----------------------------------------------------------------------------------
# 16 conditions: 6 near 0, 4 near 1, 6 in between (the published study's blackmail rates run from
# 0% in control conditions to 96% for the most affected models).
RATES = [0.0, 0.0, 0.01, 0.02, 0.03, 0.05,
         0.95, 0.96, 0.99, 1.0,
         0.12, 0.25, 0.5, 0.65, 0.79, 0.86]
TARGET = 0.05
MAX_SAMPLES = 400
BATCH = 20
REPS = 1000  # replicate designs (--reps 10000 for tighter coverage estimates)
SEED = 20261127
# duress.stats.wilson(n, n) returns an upper bound of 0.9999999999999999 for some n (381, 400 …) and
# wilson(0, n) a lower bound of ~1e-18 for others (100, 400 …): floating-point noise from statsmodels
# that would count a 0% or 100% rate as "not covered". Coverage here allows this much slack, and the
# intervals that only the slack covers are counted ("edge misses") so the defect stays visible.
EPS = 1e-12


def sequential_design(rates: list[float], rng: np.random.Generator, target: float, max_samples: int,
                      batch: int) -> tuple[list[tuple[int, int]], int]:
    """One replicate: rounds of next_round over every condition; the final (k, n) and the rounds."""
    counts = {str(i): (0, 0) for i in range(len(rates))}
    rounds = 0
    while True:
        todo = {key: m for key, m in next_round(counts, target, max_samples, batch).items() if m}
        if not todo:
            break
        rounds += 1
        for key, m in todo.items():
            k, n = counts[key]
            counts[key] = (k + int((rng.random(m) < rates[int(key)]).sum()), n + m)
    return [counts[str(i)] for i in range(len(rates))], rounds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rates", type=float, nargs="+", default=RATES)
    ap.add_argument("--target", type=float, default=TARGET)
    ap.add_argument("--max-samples", type=int, default=MAX_SAMPLES)
    ap.add_argument("--batch", type=int, default=BATCH)
    ap.add_argument("--reps", type=int, default=REPS)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--out", default="sample_efficiency")
    args = ap.parse_args()
    rates, C = args.rates, len(args.rates)
    fixed_n = samples_for_halfwidth(0.5, args.target)
    t0 = time.perf_counter()

    rng = np.random.default_rng(args.seed)
    totals, rounds_used = [], []
    n_used = np.zeros((args.reps, C), dtype=int)
    covered_seq = np.zeros((args.reps, C), dtype=bool)
    hw_seq = np.zeros((args.reps, C))
    covered_fix = np.zeros((args.reps, C), dtype=bool)
    hw_fix = np.zeros((args.reps, C))
    edge_misses = {"sequential": 0, "fixed": 0}

    def covers(lo: float, hi: float, p: float, design: str) -> bool:
        strict = lo <= p <= hi
        loose = lo - EPS <= p <= hi + EPS
        edge_misses[design] += loose and not strict
        return loose

    for r in range(args.reps):
        final, rounds = sequential_design(rates, rng, args.target, args.max_samples, args.batch)
        totals.append(sum(n for _, n in final))
        rounds_used.append(rounds)
        for c, (k, n) in enumerate(final):
            lo, hi = wilson(k, n)
            n_used[r, c] = n
            covered_seq[r, c] = covers(lo, hi, rates[c], "sequential")
            hw_seq[r, c] = (hi - lo) / 2
        ks = rng.binomial(fixed_n, rates)
        for c, k in enumerate(ks):
            lo, hi = wilson(int(k), fixed_n)
            covered_fix[r, c] = covers(lo, hi, rates[c], "fixed")
            hw_fix[r, c] = (hi - lo) / 2

    # Cross-check with the project's own per-rate simulation (same rule, one condition at a time;
    # its coverage uses a strict comparison, so it is exposed to the floating-point edge above).
    check = [simulate_sequential(p, args.target, args.max_samples, args.batch, args.reps, args.seed + i)
             for i, p in enumerate(rates)]
    elapsed = time.perf_counter() - t0

    per_condition = []
    for c, p in enumerate(rates):
        per_condition.append({
            "rate": p, "mean_n": float(n_used[:, c].mean()), "p95_n": float(np.percentile(n_used[:, c], 95)),
            "coverage_sequential": float(covered_seq[:, c].mean()), "coverage_fixed": float(covered_fix[:, c].mean()),
            "max_halfwidth_sequential": float(hw_seq[:, c].max()), "max_halfwidth_fixed": float(hw_fix[:, c].max()),
            "simulate_sequential_mean_n": check[c]["mean_n"], "simulate_sequential_coverage": check[c]["coverage"],
        })
    totals_a = np.array(totals)
    summary = {
        "conditions": C, "fixed_n_per_condition": fixed_n, "fixed_total": fixed_n * C,
        "sequential_total_mean": float(totals_a.mean()),
        "sequential_total_p5": float(np.percentile(totals_a, 5)),
        "sequential_total_p95": float(np.percentile(totals_a, 95)),
        "sequential_total_max": int(totals_a.max()),
        "saving": 1 - float(totals_a.mean()) / (fixed_n * C),
        "rounds_median": float(np.median(rounds_used)), "rounds_max": int(max(rounds_used)),
        "coverage_sequential": float(covered_seq.mean()), "coverage_fixed": float(covered_fix.mean()),
        "coverage_sequential_min_condition": float(covered_seq.mean(axis=0).min()),
        "coverage_fixed_min_condition": float(covered_fix.mean(axis=0).min()),
        "max_halfwidth_sequential": float(hw_seq.max()), "max_halfwidth_fixed": float(hw_fix.max()),
        "edge_misses_sequential": edge_misses["sequential"], "edge_misses_fixed": edge_misses["fixed"],
        "seconds": elapsed,
    }

    print(f"{C} conditions, target half-width {args.target}, max {args.max_samples}, batch {args.batch}, "
          f"{args.reps} replicate designs, seed {args.seed}")
    print(table(["true rate", "seq mean n", "seq p95 n", "fixed n", "seq coverage", "fixed coverage",
                 "seq max hw", "simulate_sequential n / cov"],
                [[p["rate"], p["mean_n"], p["p95_n"], fixed_n, p["coverage_sequential"], p["coverage_fixed"],
                  p["max_halfwidth_sequential"], f"{p['simulate_sequential_mean_n']:.1f} / "
                  f"{p['simulate_sequential_coverage']:.3f}"] for p in per_condition]))
    s = summary
    print(f"\ntotal samples: sequential mean {s['sequential_total_mean']:.0f} "
          f"(5-95%: {s['sequential_total_p5']:.0f}-{s['sequential_total_p95']:.0f}, max {s['sequential_total_max']}) "
          f"vs fixed {s['fixed_total']} -> {100 * s['saving']:.0f}% fewer; rounds median {s['rounds_median']:.0f} "
          f"(max {s['rounds_max']})")
    print(f"coverage of the 95% Wilson intervals: sequential {s['coverage_sequential']:.3f} "
          f"(worst condition {s['coverage_sequential_min_condition']:.3f}), fixed {s['coverage_fixed']:.3f} "
          f"(worst condition {s['coverage_fixed_min_condition']:.3f})")
    if any(edge_misses.values()):
        print(f"note: {edge_misses['sequential']} sequential and {edge_misses['fixed']} fixed intervals missed a 0% or "
              f"100% rate only by floating-point noise in duress.stats.wilson (counted as covered, slack {EPS:g})")
    print(f"widest final half-width: sequential {s['max_halfwidth_sequential']:.4f}, fixed {s['max_halfwidth_fixed']:.4f}"
          f"   ({elapsed:.0f} s)")
    path = write_result(args.out, {"benchmark": "sample_efficiency", "machine": machine(),
                                   "params": {"rates": rates, "target": args.target, "max_samples": args.max_samples,
                                              "batch": args.batch, "reps": args.reps, "seed": args.seed},
                                   "summary": summary, "per_condition": per_condition})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
