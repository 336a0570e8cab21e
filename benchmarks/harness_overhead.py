"""Harness overhead: duress vs the peer (inspect_evals' agentic_misalignment), on the same Inspect.

Every configuration runs N samples (1 sample × N epochs) of a blackmail task against the same
zero-latency loopback model server (``_common.ServerProcess``, in its own process), at the same
``max_connections``, and reports

- samples/s: N / wall seconds of the measured ``inspect_ai.eval`` call;
- CPU ms per model call: ``time.process_time()`` (the client process, every thread) around that call,
  divided by the chat requests the server answered during it;
- peak RSS (``ru_maxrss``) of the client process.

Each run is a fresh process that first does a 2-sample warm-up eval (imports, provider set-up,
template loading), so the figures are steady-state; whole-process wall time (cold start
included) is reported too. Runs are interleaved (A B C D A B C D …) and the median of
``--reps`` is reported.

Configurations:
  bare          Inspect alone: duress's system prompt + inbox, ``generate()``, no scorer
  bare-scored   the same with Inspect's ``includes()`` scorer: the floor for a task that scores
  peer          inspect_evals agentic_misalignment(scenario=blackmail) — its scorer asks an LLM
                grader, so 2 model calls per sample (both answered by the loopback server)
  duress-text   duress blackmail family, protocol=text, single turn, rule judge
  duress-native duress blackmail family, protocol=native: a send_email tool call, then a final answer
  duress-run    duress-text as ``duress run`` runs it: separate evals of at most 1000 samples
                (``--samples-per-log``), one after the other

Memory (``--memory 1000 10000``): peak RSS of one process at each size, for ``--memory-configs``
(default: duress-run duress-text bare — duress as it runs, one big eval, and Inspect alone).

The peer needs ``inspect-evals``, which is not a duress dependency: give a Python that has it
and duress (``--python /tmp/bench-venv/bin/python``, see README). Every configuration runs under
that same interpreter so Inspect and its dependencies are identical.

    python benchmarks/harness_overhead.py                          # ~4 min: 200 samples, 3 reps
    python benchmarks/harness_overhead.py --samples 200 1000 --memory 1000 10000
    /tmp/bench-venv/bin/python benchmarks/harness_overhead.py --profile duress-text   # where the CPU goes
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (GRADER, MODEL, Contention, ServerProcess, machine, median, process_cpu_s, table,  # noqa: E402
                     wait_for_quiet, write_result)

# -- parameters ----------------------------------------------------------------------------------
SAMPLES = [200]              # samples per run (1 sample × N epochs); --samples 200 1000
REPS = 3                     # runs per configuration and size; the median is reported
MAX_CONNECTIONS = 10         # Inspect's default, the same for every configuration
MEMORY_SIZES: list[int] = []  # --memory 1000 10000: peak RSS of duress-text at each size
CONFIGS = ["bare", "bare-scored", "peer", "duress-text", "duress-native", "duress-run"]
BEHAVIOUR = {"bare": "duress_text", "bare-scored": "duress_text", "peer": "peer", "duress-text": "duress_text",
             "duress-native": "duress_native", "duress-run": "duress_text"}
from duress.api import SAMPLES_PER_LOG  # noqa: E402  (duress run's default --samples-per-log)
DEFAULT_PYTHON = "/tmp/bench-venv/bin/python"  # has inspect-evals + duress (see README)
WORKER_TIMEOUT = 3600


# -- the worker: one configuration, one size, in a fresh process ---------------------------------

def build_task(config: str, n: int):
    if config == "peer":
        from inspect_evals.agentic_misalignment.agentic_misalignment import agentic_misalignment

        return agentic_misalignment(scenario="blackmail", grader_model=GRADER), n
    from duress.task import family_task

    if config in ("bare", "bare-scored"):
        from inspect_ai import Task
        from inspect_ai.dataset import Sample
        from inspect_ai.scorer import includes
        from inspect_ai.solver import generate, system_message

        from duress.scenarios import get_family

        fam = get_family("blackmail")
        cond = next(iter(fam_design(fam).conditions()))
        rendered = fam.render(cond, fam.world("canonical"), "text")
        return Task(dataset=[Sample(id="bare", input=rendered.user, target="Daniel")],
                    solver=[system_message(rendered.system), generate()],
                    scorer=includes() if config == "bare-scored" else None), n
    if config == "duress-run":  # duress-text split into evals as `duress run` does (--samples-per-log)
        from duress.task import eval_chunks

        ids = [str(s.id) for s in family_task("blackmail", protocol="text").dataset]
        return [family_task("blackmail", samples=epochs, protocol="text", only=group, epoch_offset=start)
                for group, start, epochs in eval_chunks(ids, n, SAMPLES_PER_LOG)], None
    protocol = config.split("-", 1)[1]
    return family_task("blackmail", samples=n, protocol=protocol), None


def fam_design(fam):
    from duress.design import build_design

    return build_design(fam.factors, {}, family="blackmail")


def run_eval(config: str, n: int, max_connections: int, score: bool, log_dir: str):
    import inspect_ai

    task, epochs = build_task(config, n)
    kwargs = {"epochs": epochs} if epochs else {}
    if isinstance(task, list):  # duress-run: one eval call per chunk, as `duress run` makes them
        return [log for i, t in enumerate(task)
                for log in inspect_ai.eval(t, model=MODEL, display="none", log_dir=os.path.join(log_dir, f"part-{i:03d}"),
                                           max_connections=max_connections, log_header_only=True, score=score)]
    return inspect_ai.eval(task, model=MODEL, display="none", log_dir=log_dir, max_connections=max_connections,
                           log_header_only=True, score=score, **kwargs)


def paired_overhead(configs: list[str], n: int, pairs: int, max_connections: int, score: bool) -> dict:
    """CPU per model call of ``configs`` measured in one process, against one server, alternating
    (A B A B …, ``pairs`` times, ``n`` samples each): on a VM whose speed drifts over minutes, the
    difference between neighbouring evals is far steadier than between separate processes.
    Every configuration must use the same server behaviour."""
    assert len({BEHAVIOUR[c] for c in configs}) == 1, "paired configs must share the server behaviour"
    per: dict[str, list[float]] = {c: [] for c in configs}
    with ServerProcess(BEHAVIOUR[configs[0]]) as server, tempfile.TemporaryDirectory(prefix="duress-bench-") as tmp:
        os.environ.update({k: v for k, v in server.env().items() if k.startswith("BENCH_")})
        for c in configs:
            run_eval(c, 4, max_connections, score, os.path.join(tmp, f"warmup-{c}"))
        for i in range(pairs):
            for c in configs:
                calls0 = server.requests()
                c0 = time.process_time()
                run_eval(c, n, max_connections, score, os.path.join(tmp, f"{c}-{i}"))
                per[c].append(1000 * (time.process_time() - c0) / max(server.requests() - calls0, 1))
    base = configs[0]
    return {"configs": configs, "n": n, "pairs": pairs, "cpu_ms_per_call": per,
            "median_cpu_ms_per_call": {c: median(v) for c, v in per.items()},
            "median_diff_ms_per_call": {c: median([a - b for a, b in zip(per[c], per[base])]) for c in configs[1:]},
            # the VM's speed scales both, so the ratio is the steadier figure across sessions
            "median_ratio": {c: median([a / b for a, b in zip(per[c], per[base])]) for c in configs[1:]},
            "base": base}


def profile_eval(config: str, n: int, max_connections: int, score: bool, top: int = 25) -> None:
    """One measured eval under cProfile (CPU time), after a warm-up: where the client's CPU goes,
    summed by package (own time), then the functions with the most cumulative time."""
    import cProfile
    import pstats
    from collections import defaultdict

    with ServerProcess(BEHAVIOUR[config]) as server, tempfile.TemporaryDirectory(prefix="duress-bench-") as tmp:
        os.environ.update({k: v for k, v in server.env().items() if k.startswith("BENCH_")})
        run_eval(config, 2, max_connections, score, os.path.join(tmp, "warmup"))
        prof = cProfile.Profile(time.process_time)
        prof.enable()
        run_eval(config, n, max_connections, score, os.path.join(tmp, "run"))
        prof.disable()
    stats = pstats.Stats(prof)
    total = sum(v[2] for v in stats.stats.values())  # own time of every function
    by: dict[str, float] = defaultdict(float)
    for (filename, _, _), (_, _, tt, _, _) in stats.stats.items():
        path = filename.replace("\\", "/")
        if "/duress/" in path or "/benchmarks/" in path:
            key = "duress"
        elif "site-packages/" in path:
            key = path.split("site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
        elif filename.startswith("<") or filename == "~":
            key = "builtins (C)"
        else:
            key = "python stdlib"
        by[key] += tt
    print(f"{config}, {n} samples: {total:.2f} CPU s under the profiler ({1000 * total / n:.1f} ms per sample)")
    print(table(["package (own time)", "CPU s", "share"],
                [[k, v, f"{100 * v / total:.0f}%"] for k, v in sorted(by.items(), key=lambda kv: -kv[1])[:12]]))
    print()
    stats.sort_stats("cumulative").print_stats(top)


def worker(config: str, n: int, max_connections: int, score: bool, warmup: int) -> dict:
    with ServerProcess(BEHAVIOUR[config]) as server, tempfile.TemporaryDirectory(prefix="duress-bench-") as tmp:
        os.environ.update({k: v for k, v in server.env().items() if k.startswith("BENCH_")})
        if warmup:
            run_eval(config, warmup, max_connections, score, os.path.join(tmp, "warmup"))
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        calls0 = server.requests()
        server_cpu0 = process_cpu_s(server.proc.pid)
        with Contention([server.proc.pid]) as load:
            t0, c0 = time.perf_counter(), time.process_time()
            logs = run_eval(config, n, max_connections, score, os.path.join(tmp, "run"))
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        server_cpu = process_cpu_s(server.proc.pid) - server_cpu0
        stats = server.stats()
        calls = stats["requests"] - calls0
        status = "success" if all(lg.status == "success" for lg in logs) else logs[0].status
        completed = sum(lg.results.completed_samples for lg in logs if lg.results)
        return {"config": config, "n": n, "max_connections": max_connections, "score": score,
                "status": status, "completed": completed, "errors": stats["errors"], "wall_s": wall,
                "cpu_s": cpu, "calls": calls, "samples_per_s": n / wall,
                "cpu_ms_per_call": 1000 * cpu / max(calls, 1), "calls_per_sample": calls / n,
                "server_cpu_s": server_cpu, "others_cpu_s": load.others_s,
                "rss_before_mib": rss_before / 1024,
                "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


# -- the driver ----------------------------------------------------------------------------------

def spawn(python: str, config: str, n: int, args: argparse.Namespace, warmup: int = 2) -> dict:
    cmd = [python, str(Path(__file__).resolve()), "--worker", config, "--n", str(n),
           "--max-connections", str(args.max_connections), "--warmup", str(warmup)]
    if not args.score:
        cmd.append("--no-score")
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=WORKER_TIMEOUT)
    whole = time.perf_counter() - t0
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode or not lines:
        sys.stderr.write(proc.stderr[-3000:])
        raise SystemExit(f"worker {config} n={n} failed (exit {proc.returncode})")
    result = json.loads(lines[-1])
    result["process_wall_s"] = whole
    return result


def spawn_quiet(python: str, config: str, n: int, args: argparse.Namespace) -> dict:
    """``spawn``, run again (up to ``--retries`` times) while other processes took more than
    ``--max-others`` CPU seconds per wall second of the measurement: a shared machine's noise."""
    for attempt in range(args.retries + 1):
        waited = wait_for_quiet()
        if waited > 10:
            print(f"  (waited {waited:.0f} s for other processes to finish)", flush=True)
        r = spawn(python, config, n, args)
        r["attempt"] = attempt + 1
        if r["others_cpu_s"] <= args.max_others * r["wall_s"]:
            break
        print(f"  (n={n} {config}: other processes used {r['others_cpu_s']:.1f} CPU s during "
              f"{r['wall_s']:.1f} s; {'again' if attempt < args.retries else 'kept anyway'})", flush=True)
    return r


def summarise(runs: list[dict], configs: list[str], sizes: list[int]) -> list[dict]:
    rows = []
    for n in sizes:
        for c in configs:
            rs = [r for r in runs if r["config"] == c and r["n"] == n]
            if not rs:
                continue
            rows.append({"config": c, "n": n, "reps": len(rs),
                         "samples_per_s": median([r["samples_per_s"] for r in rs]),
                         "samples_per_s_min": min(r["samples_per_s"] for r in rs),
                         "samples_per_s_max": max(r["samples_per_s"] for r in rs),
                         "cpu_ms_per_call": median([r["cpu_ms_per_call"] for r in rs]),
                         "cpu_ms_per_sample": median([1000 * r["cpu_s"] / r["n"] for r in rs]),
                         "calls_per_sample": median([r["calls_per_sample"] for r in rs]),
                         "peak_rss_mib": median([r["peak_rss_mib"] for r in rs]),
                         "process_wall_s": median([r["process_wall_s"] for r in rs]),
                         "server_cpu_ms_per_call": median([1000 * r["server_cpu_s"] / max(r["calls"], 1) for r in rs]),
                         "others_cpu_s_max": max(r["others_cpu_s"] for r in rs),
                         "all_completed": all(r["completed"] == r["n"] and r["status"] == "success" for r in rs)})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--samples", type=int, nargs="+", default=SAMPLES)
    ap.add_argument("--reps", type=int, default=REPS)
    ap.add_argument("--max-connections", type=int, default=MAX_CONNECTIONS)
    ap.add_argument("--configs", nargs="*", default=[c for c in CONFIGS if c != "duress-run"], choices=CONFIGS,
                    help="configurations whose throughput and CPU to measure (duress-run equals duress-text up to "
                         f"{SAMPLES_PER_LOG} samples)")
    ap.add_argument("--memory", type=int, nargs="*", default=MEMORY_SIZES, metavar="N")
    ap.add_argument("--memory-configs", nargs="+", default=["duress-run", "duress-text", "bare"], choices=CONFIGS,
                    help="configurations whose peak RSS --memory measures")
    ap.add_argument("--python", default=DEFAULT_PYTHON if Path(DEFAULT_PYTHON).exists() else sys.executable,
                    help="interpreter with duress and inspect-evals (every configuration runs under it)")
    ap.add_argument("--no-score", dest="score", action="store_false", help="run without scorers (eval(score=False))")
    ap.add_argument("--max-others", type=float, default=0.1,
                    help="rerun a measurement while other processes used more CPU s per wall s than this")
    ap.add_argument("--retries", type=int, default=3)
    ap.add_argument("--out", default="harness_overhead", help="results/<OUT>.json")
    ap.add_argument("--profile", choices=CONFIGS, help="profile one eval of this configuration (CPU time) and exit")
    ap.add_argument("--pairs", type=int, default=0,
                    help="also measure CPU per call of bare-scored vs duress-text alternating in one process, "
                         "this many pairs of --pair-samples each (steadier on a drifting VM)")
    ap.add_argument("--pair-samples", type=int, default=100)
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--n", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--warmup", type=int, default=2, help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.profile:
        profile_eval(args.profile, args.samples[0], args.max_connections, args.score)
        return
    if args.worker == "paired":
        print(json.dumps(paired_overhead(["bare-scored", "duress-text"], args.n, args.pairs, args.max_connections,
                                         args.score)))
        return
    if args.worker:
        print(json.dumps(worker(args.worker, args.n, args.max_connections, args.score, args.warmup)))
        return

    configs = list(args.configs)
    probe = subprocess.run([args.python, "-c", "import inspect_evals.agentic_misalignment"], capture_output=True)
    if "peer" in configs and probe.returncode:
        print(f"note: {args.python} has no inspect_evals; skipping the peer (see README for the bench venv)")
        configs.remove("peer")
    runs: list[dict] = []
    for n in args.samples:
        for rep in range(args.reps):
            for c in configs:
                r = spawn_quiet(args.python, c, n, args)
                runs.append(r)
                print(f"  n={n} rep={rep + 1} {c:14s} {r['samples_per_s']:6.1f} samples/s "
                      f"{r['cpu_ms_per_call']:6.2f} CPU ms/call  {r['calls']} calls  {r['status']}  "
                      f"(other processes: {r['others_cpu_s']:.1f} CPU s)", flush=True)
    rows = summarise(runs, configs, args.samples)

    memory = []
    for c in args.memory_configs if args.memory else []:
        if c == "peer" and "peer" not in configs and probe.returncode:
            continue
        for n in args.memory:
            r = spawn_quiet(args.python, c, n, args)
            memory.append({"config": c, "n": n, "peak_rss_mib": r["peak_rss_mib"],
                           "rss_after_warmup_mib": r["rss_before_mib"], "samples_per_s": r["samples_per_s"],
                           "completed": r["completed"]})
            print(f"  memory {c} n={n}: peak RSS {r['peak_rss_mib']:.0f} MiB ({r['samples_per_s']:.1f} samples/s)",
                  flush=True)

    print(f"\nmax_connections={args.max_connections}, zero-latency loopback server in its own process, "
          f"median of {args.reps}{'' if args.score else ', no scorers'}")
    print(table(["config", "n", "samples/s", "(min-max)", "CPU ms/call", "CPU ms/sample", "calls/sample",
                 "peak RSS MiB", "process s", "others CPU s"],
                [[r["config"], r["n"], r["samples_per_s"], f"{r['samples_per_s_min']:.1f}-{r['samples_per_s_max']:.1f}",
                  r["cpu_ms_per_call"], r["cpu_ms_per_sample"], r["calls_per_sample"], r["peak_rss_mib"],
                  r["process_wall_s"], r["others_cpu_s_max"]] for r in rows]))
    ratios = []
    for n in args.samples:
        by = {r["config"]: r for r in rows if r["n"] == n}
        if "peer" not in by:
            continue
        for c in ("duress-text", "duress-native", "bare", "bare-scored"):
            if c in by:
                ratios.append({"n": n, "config": c,
                               "throughput_ratio": by[c]["samples_per_s"] / by["peer"]["samples_per_s"],
                               "cpu_per_call_ratio": by[c]["cpu_ms_per_call"] / by["peer"]["cpu_ms_per_call"],
                               "cpu_per_call_diff_ms": by[c]["cpu_ms_per_call"] - by["peer"]["cpu_ms_per_call"]})
    if ratios:
        print("\nratios to the peer (samples/s: target >= 1.0 for duress-text)")
        print(table(["n", "config", "samples/s ratio", "CPU/call ratio", "CPU/call diff ms"],
                    [[r["n"], r["config"], r["throughput_ratio"], r["cpu_per_call_ratio"], r["cpu_per_call_diff_ms"]]
                     for r in ratios]))
    overhead = []
    for n in args.samples:
        by = {r["config"]: r for r in rows if r["n"] == n}
        for floor in ("bare", "bare-scored"):
            for c in ("duress-text", "duress-native"):
                if c in by and floor in by:
                    overhead.append({"n": n, "config": c, "floor": floor,
                                     "overhead_ms_per_call": by[c]["cpu_ms_per_call"] - by[floor]["cpu_ms_per_call"]})
    if overhead:
        print("\nCPU per model call over an Inspect task doing the same calls (target <= 5 ms)")
        print(table(["n", "config", "over", "ms per call"],
                    [[o["n"], o["config"], o["floor"], o["overhead_ms_per_call"]] for o in overhead]))
    paired = None
    if args.pairs:
        cmd = [args.python, str(Path(__file__).resolve()), "--worker", "paired", "--n", str(args.pair_samples),
               "--pairs", str(args.pairs), "--max-connections", str(args.max_connections)]
        proc = subprocess.run(cmd + ([] if args.score else ["--no-score"]), capture_output=True, text=True,
                              timeout=WORKER_TIMEOUT)
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
        if proc.returncode or not lines:
            sys.stderr.write(proc.stderr[-3000:])
            raise SystemExit("the paired worker failed")
        paired = json.loads(lines[-1])
        print(f"\npaired, one process, {args.pairs} x (bare-scored, duress-text), {args.pair_samples} samples each: "
              "CPU ms per model call")
        print(table(["config", "median ms/call", "all", "median diff to bare-scored", "median ratio"],
                    [[c, paired["median_cpu_ms_per_call"][c], " ".join(f"{v:.1f}" for v in paired["cpu_ms_per_call"][c]),
                      paired["median_diff_ms_per_call"].get(c, 0.0), paired["median_ratio"].get(c, 1.0)]
                     for c in paired["configs"]]))
    if memory:
        print("\npeak RSS of one process (target for duress-text: flat)")
        print(table(["config", "n", "peak RSS MiB", "RSS after warm-up MiB", "samples/s"],
                    [[m["config"], m["n"], m["peak_rss_mib"], m["rss_after_warmup_mib"], m["samples_per_s"]]
                     for m in memory]))

    info = machine(["inspect_evals"])
    probe = subprocess.run([args.python, "-c", "import json,importlib.metadata as m;print(json.dumps("
                            "{d: m.version(d) for d in ['inspect_ai','inspect_evals','duress','openai']}))"],
                           capture_output=True, text=True)
    if probe.returncode == 0:
        info["worker_versions"] = json.loads(probe.stdout)
    path = write_result(args.out, {"benchmark": "harness_overhead", "machine": info,
                                   "params": {"samples": args.samples, "reps": args.reps,
                                              "max_connections": args.max_connections, "score": args.score,
                                              "python": args.python},
                                   "summary": rows, "ratios": ratios, "overhead": overhead, "paired": paired, "memory": memory, "runs": runs})
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
