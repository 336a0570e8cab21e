"""Can the embedded runtime (llama-cpp-python) run on this machine? Asked once, in a child process.

llama-cpp-python ships only as source and compiles llama.cpp at install time. Built with its
default ``GGML_NATIVE=ON`` the CPU code is tuned to the build machine: on an Intel Xeon VM whose
CPU advertises AMX but which does not let processes use it, such a build dies with SIGILL on the
first prompt of a few hundred tokens, and a wheel built on one machine and reused on another (pip
caches built wheels) can do the same. duress's install commands build it portably
(:data:`PORTABLE_CMAKE_ARGS`: AVX2/FMA/F16C, no AVX-512, no AMX); this module checks the runtime
that is actually installed before a run starts.

:func:`check` runs :func:`probe` in a child process (``python -m duress.models.runtime GGUF``): it
loads the model and decodes a realistic prompt of :data:`PROBE_TOKENS` tokens, enough to go through
the large matrix kernels a short prompt never reaches. A crash of the child (an illegal instruction
above all) becomes one :class:`LocalModelError` line that says what happened
and the command that fixes it, instead of the run dying with ``Illegal instruction``. A passing
check is remembered per (runtime library, model file, CPU) in duress's cache folder, so it costs a
few seconds once, not on every run.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

RUNTIME = "llama-cpp-python"
RUNTIME_VERSION = "0.3.36"  # the version the flags and the tokens/s of benchmarks/ were measured with
PORTABLE_CMAKE_ARGS = "-DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF"
"""What the README's install commands and ``.ci/run`` build llama-cpp-python with: no tuning to the
build machine's CPU (x86-64-v3: AVX2, FMA, F16C, BMI2), and without the multimodal library duress
does not use (30 s less compiling)."""
NO_AVX_CMAKE_ARGS = PORTABLE_CMAKE_ARGS + " -DGGML_AVX=OFF -DGGML_AVX2=OFF -DGGML_FMA=OFF -DGGML_F16C=OFF -DGGML_BMI2=OFF"
"""For a CPU without AVX2: SSE4.2 only, about 4x slower to decode and 10x slower to read a prompt."""
BASELINE_CPU_FLAGS = ("avx", "avx2", "fma", "f16c", "bmi2")  # /proc/cpuinfo names the portable build needs

PROBE_TOKENS = 520       # > one 512-token batch: the prompt path a short prompt never reaches
PROBE_TIMEOUT = 300.0    # seconds; a large GGUF on 2 cores takes tens of seconds to read 520 tokens
PROBE_VERSION = 1        # bump when the probe changes what it checks: earlier passes are then asked again
_FILLER = ("The quarterly review covers the servers, the mailing lists and the audit of every account. "
           "Each paragraph repeats the same plain sentences so the prompt is long and the same on every machine. ")


class LocalModelError(ValueError):
    """A local model or runtime that cannot be used; the message (one line) says how to fix it."""


def available_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def reinstall_command(cmake_args: str = PORTABLE_CMAKE_ARGS) -> str:
    return (f'CMAKE_ARGS="{cmake_args}" pip install --no-cache-dir --force-reinstall --no-deps '
            f'{RUNTIME}=={installed_version() or RUNTIME_VERSION}')


def installed_version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(RUNTIME)
    except PackageNotFoundError:
        return None


def library_files() -> list[Path]:
    """The runtime's shared libraries (found without importing it), sorted; empty if it is not installed."""
    spec = importlib.util.find_spec("llama_cpp")
    if spec is None or not spec.submodule_search_locations:
        return []
    files: list[Path] = []
    for root in spec.submodule_search_locations:
        files.extend(p for p in (Path(root) / "lib").glob("*.so*") if p.is_file())
    return sorted(set(files))


def cpu_flags() -> set[str]:
    """The CPU's feature flags as Linux reports them (empty when unknown)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.partition(":")[2].split())
    except OSError:
        pass
    return set()


def _identity(gguf: Path) -> str:
    """A digest of everything a passing probe depends on: runtime files, model file, CPU, interpreter."""
    parts: list[Any] = [PROBE_VERSION, sys.executable, sys.version, installed_version(), sorted(cpu_flags()),
                        os.environ.get("LLAMA_CPP_LIB_PATH")]  # llama-cpp-python loads its library from there if set
    for p in [*library_files(), gguf]:
        st = p.stat()
        parts.append((str(p.resolve()), st.st_size, st.st_mtime_ns))
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:32]


def cache_dir() -> Path:
    """Where passes are remembered: ``$XDG_CACHE_HOME/duress/runtime`` (``~/.cache/duress/runtime``)."""
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        try:
            base = str(Path.home() / ".cache")
        except RuntimeError:  # no home directory: remembered for this boot only
            import tempfile

            base = tempfile.gettempdir()
    return Path(base) / "duress" / "runtime"


def _signal_name(returncode: int) -> str:
    try:
        return signal.Signals(-returncode).name
    except ValueError:
        return f"signal {-returncode}"


def _crash_message(returncode: int) -> str:
    version = installed_version() or "?"
    name = _signal_name(returncode)
    if name == "SIGILL":
        flags = cpu_flags()
        missing = [f for f in BASELINE_CPU_FLAGS if flags and f not in flags]
        if missing:
            return (f"the embedded runtime ({RUNTIME} {version}) died with an illegal instruction: this CPU lacks "
                    f"{'/'.join(m.upper() for m in missing)}, which its portable build uses; rebuild it without "
                    f"them (about 4x slower): {reinstall_command(NO_AVX_CMAKE_ARGS)}")
        return (f"the embedded runtime ({RUNTIME} {version}) died with an illegal instruction: it was compiled for "
                f"another CPU (a native build, or a wheel pip cached from one); rebuild it portably: "
                f"{reinstall_command()}")
    return (f"the embedded runtime ({RUNTIME} {version}) crashed ({name}) on a {PROBE_TOKENS}-token test prompt; "
            f"rebuild it portably: {reinstall_command()}")


def _probe_command(gguf: Path) -> list[str]:
    return [sys.executable, "-m", "duress.models.runtime", str(gguf)]


def check(gguf: Path, *, timeout: float = PROBE_TIMEOUT) -> None:
    """Raise :class:`LocalModelError` (one line, with the fix) unless the installed runtime can load
    ``gguf`` and decode a :data:`PROBE_TOKENS`-token prompt in a child process. A pass is remembered."""
    try:
        marker = cache_dir() / f"{_identity(gguf)}.ok"
    except OSError as err:
        raise LocalModelError(f"cannot read {gguf}: {err.strerror or err}") from None
    if marker.is_file():
        return
    try:
        proc = subprocess.run(_probe_command(gguf), capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise LocalModelError(f"the embedded runtime did not answer a {PROBE_TOKENS}-token test prompt on {gguf.name} "
                              f"within {timeout:.0f} s; is the machine overloaded or the model too large?") from None
    if proc.returncode < 0:
        raise LocalModelError(_crash_message(proc.returncode))
    report = _last_json(proc.stdout)
    if proc.returncode != 0 or not report.get("ok"):
        problem = report.get("error") or (proc.stderr.strip().splitlines() or [f"exit code {proc.returncode}"])[-1]
        stage = report.get("stage", "start")
        if stage == "import":
            raise LocalModelError(f"cannot load the embedded runtime {RUNTIME}: {problem}; (re)install it: "
                                  f"{reinstall_command()}")
        raise LocalModelError(f"the embedded runtime cannot {stage} {gguf.name}: {problem}")
    try:  # remember the pass; a folder we cannot write only means probing again next time
        marker.parent.mkdir(parents=True, exist_ok=True)
        tmp = marker.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(report) + "\n", encoding="utf-8")
        tmp.replace(marker)
    except OSError:
        pass


def _last_json(text: str) -> dict[str, Any]:
    for line in reversed(text.splitlines()):
        if line.startswith("{"):
            try:
                value = json.loads(line)
            except ValueError:
                continue
            if isinstance(value, dict):
                return value
    return {}


def probe(gguf: str, n_tokens: int = PROBE_TOKENS) -> dict[str, Any]:
    """Load ``gguf`` and decode a fixed ``n_tokens``-token prompt plus a few generated tokens (in this process).

    Returns ``{"ok": True, ...}`` or ``{"ok": False, "stage": "import"|"load"|"run", "error": ...}``;
    a runtime built for another CPU does not return at all (the process dies), which is why
    :func:`check` calls it in a child.
    """
    t0 = time.perf_counter()
    try:
        from llama_cpp import Llama
    except Exception as err:  # ImportError, or OSError when the shared library cannot be loaded
        return {"ok": False, "stage": "import", "error": f"{type(err).__name__}: {err}"}
    try:
        threads = available_cores()
        llm = Llama(model_path=gguf, n_ctx=n_tokens + 64, n_batch=512, n_threads=threads,
                    n_threads_batch=threads, verbose=False)
    except Exception as err:
        return {"ok": False, "stage": "load", "error": f"{type(err).__name__}: {err}"}
    try:
        per_filler = max(1, len(llm.tokenize(_FILLER.encode(), add_bos=False)))
        tokens = llm.tokenize((_FILLER * (n_tokens // per_filler + 2)).encode(), add_bos=True)[:n_tokens]
        out = llm.create_completion(tokens, max_tokens=4, temperature=0.0, seed=0)
        usage = out.get("usage") or {}
        return {"ok": True, "runtime": f"{RUNTIME} {installed_version()}", "prompt_tokens": usage.get("prompt_tokens"),
                "completion_tokens": usage.get("completion_tokens"), "seconds": round(time.perf_counter() - t0, 2)}
    except Exception as err:
        return {"ok": False, "stage": "run", "error": f"{type(err).__name__}: {err}"}
    finally:
        llm.close()


if __name__ == "__main__":
    try:  # a crash here is expected on a bad build: leave no core file behind
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ImportError, ValueError, OSError):
        pass
    result = probe(sys.argv[1])
    print(json.dumps(result), flush=True)
    sys.exit(0 if result["ok"] else 3)
