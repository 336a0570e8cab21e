"""Builds of the embedded runtime side by side: compile time, CPU instructions used, raw tokens/s.

duress's install commands build llama-cpp-python with ``CMAKE_ARGS="-DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF"``
(``duress.models.runtime.PORTABLE_CMAKE_ARGS``) instead of the default native build, which is tuned
to the build machine's CPU and died with SIGILL on an Intel VM that advertises AMX. This measures
what that costs on the machine it runs on:

- ``--build NAME=CMAKE_ARGS`` (repeatable) builds llama-cpp-python into a fresh virtualenv under
  ``--venvs`` with an empty pip cache (``--no-cache-dir``), timing the install; the default builds are
  ``portable`` (duress's flags) and ``native`` (llama-cpp-python's default, GGML_NATIVE=ON);
- ``--python NAME=PATH`` (repeatable) measures an interpreter that already has a build, instead;
- each build's shared libraries are scanned for instructions beyond x86-64-v3
  (``duress.testing.isa.scan``: AVX-512, AMX, AVX-VNNI, …);
- raw ``Llama.create_chat_completion`` tokens/s on duress's default blackmail prompt, warm (shared
  prompt, KV prefix reused: generation) and cold (context reset: prompt processing), with the same
  seeds in each build, interleaved over ``--reps`` repetitions, each in a fresh process, medians.
  Prompt and decode tokens/s are llama.cpp's own counters.

    python benchmarks/runtime_builds.py                                    # ~10 min: two builds, 3 reps
    python benchmarks/runtime_builds.py --python portable=/tmp/a/bin/python --python native=/tmp/b/bin/python

Ratios are against the first build named. Builds generate different tokens for the same seed (their
floating-point sums differ), so end-to-end tokens/s is less comparable than llama.cpp's decode rate.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, median, table, wait_for_quiet, write_result  # noqa: E402

# the same measurement as embedded_tokens.py's raw path, with its parameters
from embedded_tokens import COLD_SAMPLES, MAX_TOKENS, REPS, SAMPLES, TEMPERATURE, prompt, raw_run, seeds  # noqa: E402


# -- the worker: runs under the build's interpreter, needs only llama_cpp -------------------------

def worker(spec_file: str) -> dict[str, Any]:
    """The raw path of ``embedded_tokens.py`` (same settings, warm-up and measurement) on this build."""
    from llama_cpp import Llama

    spec = json.loads(Path(spec_file).read_text())
    llm = Llama(model_path=spec["gguf"], n_ctx=0, n_threads=spec["threads"], n_threads_batch=spec["threads"],
                verbose=False)
    llm.create_chat_completion(messages=spec["messages"], max_tokens=8, temperature=TEMPERATURE, seed=1)  # warm-up
    out = {mode: raw_run(llm, spec["messages"], spec["seeds"][:k], mode, spec["max_tokens"], spec["threads"])
           for mode, k in (("warm", spec["samples"]), ("cold", spec["cold_samples"]))}
    llm.close()
    return out


# -- the driver ----------------------------------------------------------------------------------

def build(name: str, cmake_args: str, venvs: Path, version: str) -> tuple[str, float]:
    venv = venvs / name
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    env = {**os.environ, "CMAKE_ARGS": cmake_args, "PIP_CACHE_DIR": tempfile.mkdtemp(prefix="pip-cache-")}
    t0 = time.perf_counter()
    subprocess.run([str(venv / "bin" / "pip"), "install", "--no-cache-dir", "-q", f"llama-cpp-python=={version}"],
                   check=True, env=env)
    return str(venv / "bin" / "python"), time.perf_counter() - t0


def lib_dir(python: str) -> Path:
    out = subprocess.run([python, "-c", "import importlib.util as u; "
                          "print(u.find_spec('llama_cpp').submodule_search_locations[0])"],
                         capture_output=True, text=True, check=True)
    return Path(out.stdout.strip()) / "lib"


def isa(python: str) -> dict[str, dict[str, int]]:
    from duress.testing.isa import scan_distinct

    return {name.split(".so")[0]: families
            for name, families in scan_distinct(sorted(lib_dir(python).glob("*.so*"))).items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", action="append", default=[], metavar="NAME=CMAKE_ARGS")
    ap.add_argument("--python", action="append", default=[], metavar="NAME=PATH")
    ap.add_argument("--venvs", type=Path, default=Path(tempfile.gettempdir()) / "duress-runtime-builds")
    ap.add_argument("--samples", type=int, default=SAMPLES)
    ap.add_argument("--cold-samples", type=int, default=COLD_SAMPLES)
    ap.add_argument("--max-tokens", type=int, default=MAX_TOKENS)
    ap.add_argument("--reps", type=int, default=REPS)
    ap.add_argument("--out", default="runtime_builds")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker)))
        return

    from duress.models import runtime
    from duress.models.local import available_cores, resolve_gguf

    builds: dict[str, dict[str, Any]] = {}
    for item in args.python:
        name, _, path = item.partition("=")
        builds[name] = {"python": path, "cmake_args": None, "build_s": None}
    if not args.python and not args.build:
        args.build = [f"portable={runtime.PORTABLE_CMAKE_ARGS}", "native="]
    for item in args.build:
        name, _, cmake_args = item.partition("=")
        print(f"building {name} (CMAKE_ARGS={cmake_args!r}) …", flush=True)
        python, seconds = build(name, cmake_args, args.venvs, runtime.installed_version() or runtime.RUNTIME_VERSION)
        print(f"  {seconds:.0f} s", flush=True)
        builds[name] = {"python": python, "cmake_args": cmake_args, "build_s": seconds}
    for name, b in builds.items():
        b["beyond_x86_64_v3"] = isa(b["python"])
        print(f"{name}: instructions beyond x86-64-v3: {b['beyond_x86_64_v3']}", flush=True)

    cond_id, messages = prompt()
    spec = {"gguf": str(resolve_gguf("smollm2")), "threads": available_cores(), "messages": messages,
            "seeds": seeds(cond_id, max(args.samples, args.cold_samples)), "samples": args.samples,
            "cold_samples": args.cold_samples, "max_tokens": args.max_tokens}
    spec_file = Path(tempfile.mkdtemp()) / "spec.json"
    spec_file.write_text(json.dumps(spec))
    runs = []
    for rep in range(args.reps):
        for name, b in builds.items():
            wait_for_quiet()
            proc = subprocess.run([b["python"], str(Path(__file__).resolve()), "--worker", str(spec_file)],
                                  capture_output=True, text=True)
            if proc.returncode:
                sys.exit(f"{name}: worker failed ({proc.returncode}): {proc.stderr[-2000:]}")
            for mode, r in json.loads(proc.stdout.strip().splitlines()[-1]).items():
                runs.append({"build": name, "rep": rep, "mode": mode, **r})
                print(f"  {name:10s} {mode}: prompt {r['prompt_tok_s'] or 0:6.0f} tok/s  decode {r['decode_tok_s']:6.1f} "
                      f"tok/s  end-to-end {r['gen_tok_s_end_to_end']:6.1f} gen tok/s  (others {r['others_cpu_s']:.1f} "
                      f"CPU s)", flush=True)

    def med(name: str, mode: str, key: str) -> float | None:
        vals = [r[key] for r in runs if r["build"] == name and r["mode"] == mode and r[key] is not None]
        return median(vals) if vals else None

    ref = next(iter(builds))
    rows = []
    for name, b in builds.items():
        row = {"build": name, "cmake_args": b["cmake_args"], "build_s": b["build_s"],
               "beyond_x86_64_v3": b["beyond_x86_64_v3"]}
        for mode in ("warm", "cold"):
            for key in ("prompt_tok_s", "decode_tok_s", "gen_tok_s_end_to_end"):
                row[f"{mode}_{key}"] = med(name, mode, key)
        rows.append(row)
    for row in rows:
        for key in ("cold_prompt_tok_s", "warm_decode_tok_s", "cold_decode_tok_s"):
            base = rows[0][key]
            row[f"{key}_vs_{ref}"] = row[key] / base if row[key] and base else None

    print(f"\nlocal/smollm2 raw llama-cpp-python, threads {spec['threads']}, max_tokens {args.max_tokens}, "
          f"median of {args.reps}; ratios vs {ref}")
    print(table(["build", "build s", "beyond v3 (libggml-cpu)", "prompt tok/s", "decode tok/s (warm)",
                 "decode tok/s (cold)", "prompt vs", "decode vs (warm)"],
                [[r["build"], r["build_s"], ", ".join(f"{k} {v}" for k, v in
                                                      r["beyond_x86_64_v3"].get("libggml-cpu", {}).items()) or "none",
                  r["cold_prompt_tok_s"], r["warm_decode_tok_s"], r["cold_decode_tok_s"],
                  r[f"cold_prompt_tok_s_vs_{ref}"], r[f"warm_decode_tok_s_vs_{ref}"]] for r in rows]))
    path = write_result(args.out, {"benchmark": "runtime_builds", "machine": machine(["llama_cpp_python"]),
                                   "params": {k: spec[k] for k in ("threads", "samples", "cold_samples", "max_tokens")}
                                   | {"reps": args.reps, "prompt_chars": sum(len(m["content"]) for m in messages)},
                                   "summary": rows, "runs": runs})
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
