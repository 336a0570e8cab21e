"""The embedded runtime runs on any x86-64 machine, and when it cannot, a run says so in one line.

A llama-cpp-python built with its default ``GGML_NATIVE=ON`` on an Intel Xeon whose CPU lists AMX
put ``tileloadd`` in ``libggml-cpu.so``; the VM did not allow it and every prompt of a few hundred
tokens died with SIGILL. The first test fails on such a build (whatever machine runs it); the
others check that a crashing runtime becomes one line with the fix, exit code 2 and no run folder.
"""

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from cli_runner import duress_process
from duress.models import runtime
from duress.models.runtime import LocalModelError
from duress.testing.isa import scan, scan_distinct, scan_text

ROOT = Path(__file__).resolve().parents[1]


def test_installed_runtime_has_no_instructions_beyond_the_portable_baseline():
    found = scan_distinct(runtime.library_files())
    assert any("ggml-cpu" in name for name in found), f"no llama.cpp CPU backend found among {list(found)}"
    bad = {name: families for name, families in found.items() if families}
    assert not bad, (f"the installed {runtime.RUNTIME} was compiled for a specific CPU ({bad}) and will die with "
                     f"SIGILL elsewhere; rebuild it portably: {runtime.reinstall_command()}")


def test_scanner_recognises_what_a_native_build_contains():
    # real objdump --wide lines (one from each family, and the AVX2/FMA3 a portable build is made of)
    text = textwrap.dedent("""\
          1a2b0:\tc4 e2 7d 18 05 00 00 00 00 \tvbroadcastss 0x0(%rip),%ymm0
          1a2b9:\tc4 e2 75 b8 c2       \tvfmadd231ps %ymm2,%ymm1,%ymm0
          1a2be:\tc4 e2 7d 00 c1       \tvpshufb %ymm1,%ymm0,%ymm0
          1a2c3:\tc4 e3 fd 00 c0 d8    \tvpermq $0xd8,%ymm0,%ymm0
          1a2c9:\t62 f1 7c 48 58 c1    \tvaddps %zmm1,%zmm0,%zmm0
          1a2cf:\t62 f2 7d 28 50 c1    \tvpdpbusd %ymm1,%ymm0,%ymm0
          1a2d5:\tc4 e2 25 50 dc       \t{vex} vpdpbusd %ymm4,%ymm11,%ymm3
          1a2da:\tc4 e2 7b 4b 04 08    \ttileloadd (%rax,%rcx,1),%tmm0
          1a2e0:\tc4 e2 78 49 00       \tldtilecfg (%rax)
          1a2e5:\t66 0f 38 f6 c1       \tadcx   %ecx,%eax
          1a2ea:\tc4 e3 f1 68 c2 30    \tvfmaddps %xmm3,%xmm2,%xmm1,%xmm0
          1a2f0:\tc4 e3 f9 ce c1 00    \tvgf2p8affineqb $0x0,%xmm1,%xmm0,%xmm0
        """)
    assert scan_text(text) == {"avx512": 2, "avx_vnni_ifma_ne": 1, "amx": 2, "other": 2, "amd_only": 1}


def test_scanner_on_code_the_assembler_really_emits(tmp_path):
    assembler = shutil.which("as")
    assert assembler, "GNU as (binutils) is needed; the runtime's build needed it too"
    src = tmp_path / "x.s"
    src.write_text("vfmadd231ps %ymm2, %ymm1, %ymm0\nvaddps %zmm1, %zmm0, %zmm0\nvpaddd %ymm17, %ymm1, %ymm0\n"
                   "tileloadd (%rax,%rcx,1), %tmm0\ntdpbssd %tmm2, %tmm1, %tmm0\n{vex} vpdpbusd %ymm4, %ymm11, %ymm3\n"
                   "vpshufb %ymm1, %ymm0, %ymm0\n")
    subprocess.run([assembler, "--64", "-o", str(tmp_path / "x.o"), str(src)], check=True)
    assert scan(tmp_path / "x.o") == {"avx512": 2, "amx": 2, "avx_vnni_ifma_ne": 1}


# -- the probe: a crash in a child process becomes one line --------------------------------------

@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def gguf(tmp_path):
    path = tmp_path / "model.gguf"
    path.write_bytes(b"GGUF")
    return path


def child(monkeypatch, code: str) -> None:
    monkeypatch.setattr(runtime, "_probe_command", lambda g: [sys.executable, "-c", code])


def test_an_illegal_instruction_in_the_probe_names_the_cause_and_the_portable_rebuild(fresh_cache, gguf, monkeypatch):
    child(monkeypatch, "import os, signal; os.kill(os.getpid(), signal.SIGILL)")
    monkeypatch.setattr(runtime, "cpu_flags", lambda: {"sse2", "avx", "avx2", "fma", "f16c", "bmi2", "amx_tile"})
    with pytest.raises(LocalModelError) as err:
        runtime.check(gguf)
    msg = str(err.value)
    assert "illegal instruction" in msg and "compiled for another CPU" in msg and "\n" not in msg
    assert f'CMAKE_ARGS="{runtime.PORTABLE_CMAKE_ARGS}" pip install --no-cache-dir --force-reinstall' in msg
    assert not list(fresh_cache.rglob("*.ok"))  # a failure is not remembered


def test_a_cpu_without_avx2_is_told_to_build_without_it(fresh_cache, gguf, monkeypatch):
    child(monkeypatch, "import os, signal; os.kill(os.getpid(), signal.SIGILL)")
    monkeypatch.setattr(runtime, "cpu_flags", lambda: {"sse2", "sse4_2", "avx"})
    with pytest.raises(LocalModelError, match=r"lacks AVX2/FMA/F16C/BMI2") as err:
        runtime.check(gguf)
    assert "-DGGML_AVX2=OFF" in str(err.value)


def test_other_crashes_import_errors_and_hangs(fresh_cache, gguf, monkeypatch):
    child(monkeypatch, "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)")
    with pytest.raises(LocalModelError, match=r"crashed \(SIGSEGV\) on a 520-token test prompt"):
        runtime.check(gguf)
    # the real child, with llama_cpp unimportable
    child(monkeypatch, "import sys, runpy; sys.modules['llama_cpp'] = None; sys.argv = ['x', 'm.gguf']; "
                       "runpy.run_module('duress.models.runtime', run_name='__main__')")
    with pytest.raises(LocalModelError, match=r"cannot load the embedded runtime llama-cpp-python: ModuleNotFoundError.*"
                                              r"\(re\)install it: CMAKE_ARGS="):
        runtime.check(gguf)
    child(monkeypatch, "import time; time.sleep(30)")
    with pytest.raises(LocalModelError, match=r"did not answer a 520-token test prompt .* within 1 s"):
        runtime.check(gguf, timeout=1)


def test_a_pass_is_remembered_until_the_runtime_model_or_cpu_changes(fresh_cache, gguf, monkeypatch):
    calls = []
    real_run = subprocess.run

    def counting_run(*a, **kw):
        calls.append(a)
        return real_run(*a, **kw)

    child(monkeypatch, "print('{\"ok\": true}')")
    monkeypatch.setattr(subprocess, "run", counting_run)
    runtime.check(gguf)
    runtime.check(gguf)
    assert len(calls) == 1 and len(list(fresh_cache.rglob("*.ok"))) == 1
    gguf.write_bytes(b"GGUF, another model")
    runtime.check(gguf)
    monkeypatch.setattr(runtime, "cpu_flags", lambda: {"sse2"})
    runtime.check(gguf)
    assert len(calls) == 3


FAKE_RUNTIME = '''
"""Stands in for a llama-cpp-python built for another CPU: short prompts work, long ones die of SIGILL."""
import os, signal

class Llama:
    def __init__(self, model_path, **kw):
        pass

    def tokenize(self, data, add_bos=True):
        return list(range(len(data.split())))

    def create_completion(self, prompt, **kw):
        if len(prompt) > 300:
            os.kill(os.getpid(), signal.SIGILL)
        return {"usage": {"prompt_tokens": len(prompt), "completion_tokens": 1}}

    def close(self):
        pass
'''


def test_duress_run_on_a_runtime_that_dies_of_sigill_prints_one_line_exits_2_and_writes_nothing(tmp_path):
    fake = tmp_path / "fake" / "llama_cpp"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text(FAKE_RUNTIME)
    out = duress_process("run", "--out", tmp_path / "runs", "-n", "1", cwd=tmp_path,
                         env={"PYTHONPATH": str(tmp_path / "fake"), "XDG_CACHE_HOME": str(tmp_path / "cache")})
    assert out.returncode == 2, out.stderr
    lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "error: cannot use model 'local/smollm2'" in lines[0]
    assert "illegal instruction" in lines[0] and runtime.PORTABLE_CMAKE_ARGS in lines[0]
    assert "Traceback" not in out.stderr + out.stdout
    assert not (tmp_path / "runs").exists()


# -- the install commands build the runtime portably ---------------------------------------------

def test_the_readme_commands_and_ci_build_the_runtime_portably():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quickstart = readme.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    commands = [ln for ln in quickstart.splitlines() if ln.startswith("python3 -m venv")]
    assert len(commands) == 2 and commands[0].endswith("duress run") and commands[1].endswith("python -m pytest")
    for command in commands:
        assert f'CMAKE_ARGS="{runtime.PORTABLE_CMAKE_ARGS}" pip install' in command
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert commands[1] in ci  # CI runs the README's test command verbatim


# -- the real runtime, a realistic prompt, in a child process --------------------------------------

@pytest.mark.embedded
def test_the_installed_runtime_decodes_a_realistic_prompt_in_a_child_process(fresh_cache):
    from duress.models.local import resolve_gguf

    gguf = resolve_gguf("smollm2")
    proc = subprocess.run(runtime._probe_command(gguf), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-2000:])
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["ok"] and report["prompt_tokens"] >= 500 and report["completion_tokens"] >= 1
    runtime.check(gguf)  # the same, through the check, which remembers it
    assert len(list(fresh_cache.rglob("*.ok"))) == 1
