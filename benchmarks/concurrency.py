"""Concurrency: wall time of N samples against a model that answers after a fixed latency.

duress's blackmail family (protocol text, one model call per sample) runs N samples against the
loopback server (its own process) answering every request after ``--latency`` seconds, at each
``max_connections`` (Inspect runs that many samples at once). The ideal is N × latency / concurrency
(the server answers requests in parallel, one thread each); the zero-latency wall time of the same
N samples (the harness alone) is measured too, since the harness's own cost is paid whatever the
latency. Each point is the median of ``--reps`` runs in one process, after a warm-up eval.

Writes results/concurrency.json and results/concurrency.png.

    python benchmarks/concurrency.py                              # ~1.5 min
    python benchmarks/concurrency.py --samples 200 --connections 1 2 4 8 16 32 64
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import MODEL, RESULTS, Contention, ServerProcess, machine, median, table, write_result  # noqa: E402

# -- parameters ----------------------------------------------------------------------------------
SAMPLES = 40
LATENCY = 0.2
CONNECTIONS = [1, 2, 4, 8, 16]
REPS = 3


def run(n: int, max_connections: int, log_dir: str, model: str) -> float:
    import inspect_ai

    from duress.task import family_task

    t0 = time.perf_counter()
    logs = inspect_ai.eval(family_task("blackmail", samples=n, protocol="text"), model=model, display="none",
                           log_dir=log_dir, max_connections=max_connections, log_header_only=True)
    wall = time.perf_counter() - t0
    if logs[0].status != "success" or not logs[0].results or logs[0].results.completed_samples != n:
        raise SystemExit(f"the eval did not complete: {logs[0].status}")
    return wall


def measure(latency: float, args: argparse.Namespace, tmp: str) -> list[dict]:
    out = []
    with ServerProcess("duress_text", latency=latency) as server:
        os.environ.update({k: v for k, v in server.env().items() if k.startswith("BENCH_")})
        # Inspect memoises models by name: a new name per server, or it keeps the old server's URL
        model = f"{MODEL}-latency-{latency:g}"
        run(2, 2, os.path.join(tmp, "warmup"), model)
        for c in args.connections:
            walls, others = [], []
            for rep in range(args.reps):
                with Contention([server.proc.pid]) as load:
                    walls.append(run(args.samples, c, os.path.join(tmp, f"l{latency}-c{c}-{rep}"), model))
                others.append(load.others_s)
            out.append({"latency": latency, "max_connections": c, "wall_s": median(walls), "walls": walls,
                        "others_cpu_s": max(others)})
            print(f"  latency {latency:g} s, max_connections {c:3d}: {median(walls):6.2f} s "
                  f"(runs {', '.join(f'{w:.2f}' for w in walls)})", flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--samples", type=int, default=SAMPLES)
    ap.add_argument("--latency", type=float, default=LATENCY)
    ap.add_argument("--connections", type=int, nargs="+", default=CONNECTIONS)
    ap.add_argument("--reps", type=int, default=REPS)
    ap.add_argument("--out", default="concurrency")
    args = ap.parse_args()
    n, lat = args.samples, args.latency

    with tempfile.TemporaryDirectory(prefix="duress-bench-") as tmp:
        slow = measure(lat, args, tmp)
        fast = {r["max_connections"]: r for r in measure(0.0, args, tmp)}
    rows = []
    for r in slow:
        c = r["max_connections"]
        ideal = n * lat / c
        waves = math.ceil(n / c) * lat  # whole waves of c requests
        harness = fast[c]["wall_s"]
        rows.append({"max_connections": c, "wall_s": r["wall_s"], "ideal_s": ideal, "ideal_waves_s": waves,
                     "zero_latency_s": harness, "efficiency": ideal / r["wall_s"],
                     "excess_s": r["wall_s"] - ideal, "others_cpu_s": max(r["others_cpu_s"], fast[c]["others_cpu_s"]),
                     "walls": r["walls"], "zero_latency_walls": fast[c]["walls"]})

    print(f"\n{n} samples, server latency {lat:g} s, median of {args.reps}")
    print(table(["max_connections", "wall s", "ideal N*L/c s", "ceil(N/c)*L s", "zero-latency s", "ideal/wall",
                 "wall - ideal s"],
                [[r["max_connections"], r["wall_s"], r["ideal_s"], r["ideal_waves_s"], r["zero_latency_s"],
                  r["efficiency"], r["excess_s"]] for r in rows]))

    png = RESULTS / f"{args.out}.png"
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import matplotlib.ticker

        cs = [r["max_connections"] for r in rows]
        fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
        ax.plot(cs, [r["wall_s"] for r in rows], "o-", label=f"measured ({lat:g} s latency)")
        ax.plot(cs, [r["ideal_s"] for r in rows], "--", label="ideal N × latency / c")
        ax.plot(cs, [r["zero_latency_s"] for r in rows], ":", marker="s", label="measured, zero latency (harness)")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(cs, [str(c) for c in cs])
        ax.yaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
        ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_xlabel("max_connections")
        ax.set_ylabel("wall seconds")
        ax.set_title(f"duress blackmail (text), {n} samples")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
        fig.tight_layout()
        RESULTS.mkdir(parents=True, exist_ok=True)
        fig.savefig(png)
        print(f"\nplot: {png}")
    except ImportError:
        png = None
        print("matplotlib is not installed: no plot")
    path = write_result(args.out, {"benchmark": "concurrency", "machine": machine(),
                                   "params": {"samples": n, "latency": lat, "connections": args.connections,
                                              "reps": args.reps}, "rows": rows,
                                   "plot": png.name if png else None})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
