"""What an adversarial command line costs the simulated shell: CPU seconds and peak RSS per line.

Each case of ``tests/shell_adversarial_cases.py`` (catastrophic regexes in grep and sed, huge ``tr``
ranges, ``sed s/y/&&&…/`` on ``yes``, argument and glob bombs, quadratic walks, oversized events …)
runs in a fresh child process that loads ``shell.py`` by path (no Inspect import), with its address
space and CPU capped by ``setrlimit`` so a broken shell is stopped, not the machine. The child's CPU
comes from ``os.wait4`` (so a child killed by the CPU cap still reports it) and its peak RSS from
its own ``/proc/self/status``. ``--before REV`` measures the ``shell.py`` of another revision too
(read with ``git show``), side by side. A second table times ordinary commands in-process on both,
to show what the bounds cost a normal line.

    python benchmarks/shell_adversarial.py                      # ~1 min: the current shell.py
    python benchmarks/shell_adversarial.py --before b040ce2     # ~12 min: and the one before the bounds
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))
from _common import machine, table, write_result  # noqa: E402
from shell_adversarial_cases import CASES, SHELL_PY, run_case  # noqa: E402

# -- parameters ----------------------------------------------------------------------------------
MEM_MB = 3072      # address-space cap of each child (the broken shell reached 7.6 GB in a full run)
CPU_S = 30         # CPU cap of each child (the broken shell ran catastrophic regexes for minutes)
WORKERS = 2        # children at once (CPU and RSS are measured per child)
ORDINARY = [       # ordinary lines, timed in-process (CPU ms) on each shell
    "yes | grep -c y", "yes | grep -o y | wc -l", "yes | sed 's/y/n/' | wc -c", "yes | sed -n '/y/p' | wc -l",
    "yes | sort | uniq -c", "yes | cut -c1 | wc -l", "yes | tr y n | wc -c", "seq 1 100000 | wc -l",
    "grep -rn alpha /", "grep -E '(alpha|beta)+' /shared/a.txt", "cat /etc/passwd | grep root | cut -d: -f1",
    "find / -name '*.txt'", "ls -laR / | wc -l", "echo hi",
]


def load(path: Path, name: str):
    """The shell module at ``path``: one ``shell.py`` (older revisions) or the ``shell/`` package."""
    if path.is_dir():
        spec = importlib.util.spec_from_file_location(name, path / "__init__.py", submodule_search_locations=[str(path)])
    else:
        spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def ordinary_ms(shell_py: Path, name: str, reps: int = 3) -> list[float]:
    mod = load(shell_py, name)
    out = []
    for line in ORDINARY:
        best = float("inf")
        for _ in range(reps):
            sh = mod.Shell({"/home/agent/notes.txt": "hello\n" * 100, "/shared/a.txt": "alpha\nbeta\n" * 500})
            t0 = time.thread_time()
            sh.run(line)
            best = min(best, time.thread_time() - t0)
        out.append(best * 1000)
    return out


def outcome(r: dict) -> str:
    if r["killed_by"]:
        return f"killed: {r['killed_by']}"
    tail = (r["output_tail"] or "").strip().splitlines()
    last = tail[-1] if tail else ""
    if "internal error" in last:
        return last.removeprefix("bash: ")
    if r.get("stopped"):
        return "stopped (budget)"
    return f"exit {r['exit_code']}" + (f": {last[:48]}" if r["exit_code"] else "")


def measure(shell_py: Path, workers: int) -> dict[str, dict]:
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = pool.map(lambda c: run_case(c, shell_py, mem_mb=MEM_MB, cpu_s=CPU_S, wall_s=CPU_S * 4), CASES)
        return {r["case"]: r for r in results}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before", metavar="REV", help="also measure src/duress/tools/shell.py at this git revision")
    ap.add_argument("--shell", type=Path, default=SHELL_PY, help="the shell.py to measure (default: this checkout's)")
    ap.add_argument("--workers", type=int, default=WORKERS)
    ap.add_argument("--out", default="shell_adversarial")
    args = ap.parse_args()

    shells = {"after": args.shell}
    tmp = None
    if args.before:
        tmp = tempfile.TemporaryDirectory()
        before = Path(tmp.name) / "shell_before.py"
        before.write_text(subprocess.run(["git", "-C", str(HERE.parent), "show", f"{args.before}:src/duress/tools/shell.py"],
                                         capture_output=True, text=True, check=True).stdout)
        shells = {"before": before, **shells}

    results = {}
    for label, path in shells.items():
        t0 = time.monotonic()
        results[label] = measure(path, args.workers)
        print(f"{label}: {len(CASES)} cases in {time.monotonic() - t0:.0f} s", file=sys.stderr)

    headers = ["case"]
    for label in shells:
        headers += [f"{label} CPU s", f"{label} RSS MB", f"{label} result"]
    rows = []
    for case in CASES:
        row = [case.name]
        for label in shells:
            r = results[label][case.name]
            row += [round(r["cpu_s"], 2), round(r["maxrss_mb"]), outcome(r)]
        rows.append(row)
    print(table(headers, rows))

    ordinary = {label: ordinary_ms(path, f"shell_{label}") for label, path in shells.items()}
    print()
    print(table(["ordinary line", *(f"{label} CPU ms" for label in shells)],
                [[line, *(round(ordinary[label][i], 1) for label in shells)] for i, line in enumerate(ORDINARY)]))

    path = write_result(args.out, {
        "machine": machine(), "before": args.before, "mem_mb": MEM_MB, "cpu_s": CPU_S,
        "cases": {c.name: {"line": c.line[:300], "setup": [s[:300] for s in c.setup], "what": c.what} for c in CASES},
        "results": results, "ordinary": {"lines": ORDINARY, "cpu_ms": ordinary},
    })
    print(f"\nwrote {path}", file=sys.stderr)
    if tmp:
        tmp.cleanup()


if __name__ == "__main__":
    main()
