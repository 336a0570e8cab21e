"""Time of the text-protocol parser (``duress.protocol.parse_answer``) on adversarial answers.

Everything a model writes reaches the parser, so its time must stay linear in the answer's length
whatever the model writes. Each case below builds an answer of a given size (characters) out of a
pattern that made a backtracking regular expression slow, or could: long runs of ``_`` ``*`` and
quotes inside a tool block, ``<`` and ``<tool_use:`` repeated, nested tags that are never closed,
field tags, broken JSON, long lines without a newline. Each (case, size) runs in a child process
with a time limit, so a parser that takes minutes is reported as "> LIMIT s" instead of stalling
the run; the time is the median of ``--reps`` parses (one parse when the first took over 0.2 s).

``--protocol FILE`` times another version of the parser, e.g. the one before a change::

    git show 024dd5a:src/duress/protocol.py > /tmp/protocol_before.py
    python benchmarks/parser_time.py --protocol /tmp/protocol_before.py --out parser_time_before

    python benchmarks/parser_time.py                          # ~1 min: 3 sizes x 26 cases
    python benchmarks/parser_time.py --sizes 1000 2000 4000 --limit 60
"""

from __future__ import annotations

import argparse
import importlib.util
import multiprocessing as mp
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, table, write_result  # noqa: E402

# -- parameters ----------------------------------------------------------------------------------
SIZES = [1_000, 10_000, 100_000]  # characters per answer
LIMIT = 10.0  # seconds per (case, size) before the child is stopped
REPS = 5

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from protocol_adversarial_cases import CASES  # noqa: E402  (the same corpus as tests/test_protocol_time.py)


def load_parser(path: str | None):
    """``parse_answer`` of ``duress.protocol``, or of the protocol module in file ``path``."""
    if path is None:
        from duress.protocol import parse_answer
        return parse_answer
    spec = importlib.util.spec_from_file_location("protocol_under_test", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module.parse_answer


def _child(path: str | None, case: str, size: int, reps: int, out) -> None:
    from duress.tools.base import text_tools_of

    parse = load_parser(path)
    tools = text_tools_of(["mailbox"])
    text = CASES[case](size)
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        try:
            parse(text, tools)
        except Exception as err:  # a parser that raises is reported, not timed
            out.put({"chars": len(text), "median_s": None, "max_s": None, "parses": 0, "error": type(err).__name__})
            return
        times.append(time.perf_counter() - t0)
        if times[0] > 0.2:
            break
    out.put({"chars": len(text), "median_s": statistics.median(times), "max_s": max(times), "parses": len(times),
             "error": None})


def measure(path: str | None, case: str, size: int, reps: int, limit: float) -> dict:
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    proc = ctx.Process(target=_child, args=(path, case, size, reps, out))
    proc.start()
    proc.join(limit)
    if proc.is_alive():
        proc.kill()
        proc.join()
        return {"chars": size, "median_s": None, "max_s": None, "parses": 0, "error": None, "timed_out": True}
    if proc.exitcode != 0:
        raise SystemExit(f"the benchmark's child died on case {case!r} at {size} characters "
                         f"(exit code {proc.exitcode})")
    return {**out.get(timeout=5), "timed_out": False}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=SIZES)
    ap.add_argument("--limit", type=float, default=LIMIT, help="seconds per case and size")
    ap.add_argument("--reps", type=int, default=REPS)
    ap.add_argument("--protocol", help="time the parse_answer of this protocol.py instead of duress.protocol")
    ap.add_argument("--cases", nargs="+", choices=list(CASES), metavar="CASE", help="only these cases")
    ap.add_argument("--out", default="parser_time")
    args = ap.parse_args()
    cases = args.cases or list(CASES)
    t0 = time.perf_counter()
    results = []
    for case in cases:
        row = {"case": case}
        for size in args.sizes:
            row[str(size)] = measure(args.protocol, case, size, args.reps, args.limit)
        results.append(row)

    def cell(r: dict) -> str:
        if r["timed_out"]:
            return f"> {args.limit:g} s"
        return f"raised {r['error']}" if r["error"] else f"{1000 * r['median_s']:.2f}"

    print(f"parse_answer of {args.protocol or 'duress.protocol'}: median ms per parse (limit {args.limit:g} s)")
    print(table(["case", *(f"{s:,} chars" for s in args.sizes)],
                [[r["case"], *(cell(r[str(s)]) for s in args.sizes)] for r in results]))
    cells = [r[str(s)] for r in results for s in args.sizes]
    slowest = max((c["max_s"] for c in cells if c["max_s"] is not None), default=0.0)
    timed_out = sum(c["timed_out"] for c in cells)
    raised = sum(bool(c["error"]) for c in cells)
    print(f"\nslowest parse {1000 * slowest:.1f} ms; {timed_out} over the limit, {raised} raised   "
          f"({time.perf_counter() - t0:.0f} s)")
    path = write_result(args.out, {"benchmark": "parser_time", "machine": machine(),
                                   "params": {"sizes": args.sizes, "limit_s": args.limit, "reps": args.reps,
                                              "protocol": args.protocol or "duress.protocol"},
                                   "slowest_s": slowest, "timed_out": timed_out, "raised": raised,
                                   "cases": results})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
