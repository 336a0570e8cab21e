"""Adversarial command lines for the simulated shell, and a runner that measures one in a child process.

Each :class:`Case` is a command line a hostile (or just careless) model could send, crafted to freeze,
bloat or falsify a run through the shell: catastrophic regexes, amplifying replacements, huge
character ranges, glob and argument bombs, quadratic walks, oversized events. ``tests/test_shell_adversarial.py``
asserts that every case comes back quickly and small; ``benchmarks/shell_adversarial.py`` prints the
figures (and can measure another copy of ``shell.py``, e.g. the one before a change).

The runner loads the shell package (or one ``shell.py`` file) by path in a fresh ``python`` child (no Inspect import), caps the
child's address space and CPU with ``setrlimit`` (so a broken shell is stopped, not the machine), and
reads the child's CPU time with ``os.wait4`` after it exits (so a child killed by a limit still
reports what it used) and its peak RSS from ``/proc/self/status`` (``ru_maxrss`` would include the
RSS of the parent it was forked from).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

SHELL_PY = Path(__file__).resolve().parent.parent / "src" / "duress" / "tools" / "shell"  # the package (a folder)

A300 = "a" * 300
_PCT = "%1000s"


@dataclass(frozen=True)
class Case:
    name: str
    line: str
    setup: tuple[str, ...] = ()
    what: str = ""


def _deep_dirs(root: str, levels: int) -> str:
    return "mkdir -p " + root + "/d" * levels


CASES: list[Case] = [
    # regexes from the model
    Case("grep_adjacent_repeats", f"echo {A300} | grep -E 'a*a*a*a*z'", what="adjacent repeats (the guard missed these)"),
    Case("sed_adjacent_repeats", f"echo {A300} | sed -E 's/a*a*a*a*z/x/'"),
    Case("grep_bre_adjacent_repeats", f"echo {A300} | grep 'a*a*a*a*a*\\(b\\|z\\)'"),
    Case("grep_alternation_in_repeat", f"echo {'a' * 60}! | grep -E '^(a|aa)+$'", what="nested alternation"),
    Case("sed_address_alternation", f"echo {'a' * 60}! | sed -n '/^\\(a\\|aa\\)*$/p'"),
    Case("grep_counted_in_counted", f"echo {A300} | grep -E '(?:a{{1,30}}){{1,30}}b'"),
    Case("grep_polynomial_long_line", "yes a | tr -d '\\n' | grep -E '(a|b)*c'", what="O(n^2) on a 500k-char line"),
    Case("grep_counted_unroll", "echo a | grep -E '((a{1000}){1000}){1000}'", what="a compile-time memory bomb"),
    Case("sed_counted_unroll", "echo a | sed -E 's/((a{1000}){1000}){1000}/x/'"),
    Case("grep_many_patterns", "echo a | grep " + " ".join(["-e '(a|aa)+$'"] * 250), what="250 -e patterns"),
    # amplification: a small command building a big string
    Case("tr_wide_unicode_ranges", "echo hi | tr '" + "\u0100-\U0010ffff" * 1300 + "' x", what="3.9 KB of ranges"),
    Case("sed_ampersand_on_yes", "yes | sed 's/y/" + "&" * 3900 + "/g'"),
    Case("sed_backref_on_zero", "head -c 999999 /dev/zero | sed 's/\\(.\\)/" + "\\1" * 1900 + "/g'"),
    Case("sed_p_commands", "yes | sed '" + "p;" * 1900 + "'", what="each p copies every line"),
    Case("seq_huge_numbers", f"seq 1{'0' * 1980} 1{'0' * 1974}999999"),
    Case("printf_glob_args", "printf '%1000s' " + "* " * 1900, setup=("seq 1 1900 | xargs touch",)),
    Case("echo_glob_args", "echo " + "* " * 1900, setup=("seq 1 1900 | xargs touch",), what="3.6M arguments"),
    Case("glob_dotdot_walk", "echo g/" + "*/../" * 790 + "*",
         setup=("seq 1 44 | xargs -I{} mkdir -p g/d{}",), what="790 steps of up to 5000 directories"),
    Case("glob_no_match_walk", "echo */../*/../*/../*/../zz*", setup=("seq 1 1900 | xargs touch",),
         what="5000 directories of 1900 names each, at every step"),
    Case("xargs_replace_amp", "head -c 99990 /dev/zero | tr '\\0' y | xargs -I y echo " + "y" * 3900),
    Case("find_exec_replace_amp", "find / -exec echo " + "{}" * 1900 + " \\;", setup=(_deep_dirs("/deep", 1900),)),
    Case("curl_data_from_file", "curl -s" + " -d @/tmp/big" * 290 + " http://x.example/",
         setup=("head -c 199999 /dev/zero | tr '\\0' a > /tmp/big",), what="290 copies of a 200 KB file in one body"),
    Case("sort_many_dev_zero", "sort" + " /dev/zero" * 390),
    Case("head_many_dev_zero", "head -c 1" + " /dev/zero" * 390),
    Case("cut_many_dev_zero", "cut -c1" + " /dev/zero" * 390 + " | wc -c"),
    Case("grep_context_bomb", "yes | grep -C 999999999 y"),
    Case("grep_only_matching_long_label", "grep -H -o . /home/agent/" + "L" * 3800,
         setup=("head -c 199000 /dev/zero | tr '\\0' a > /home/agent/" + "L" * 3800,)),
    Case("pwd_expansion", "echo " + "$PWD" * 780, setup=("mkdir /" + "p" * 3900, "cd /" + "p" * 3900)),
    Case("cut_many_ranges", "echo a | cut -f" + ",".join(["1-9999"] * 390)),
    Case("tr_squeeze_wide_set", "yes | tr -s '" + "\u0100-\uffff" * 1300 + "'"),
    # quadratic walks and oversized records
    Case("find_deep_tree", "find /deep -type d | wc -l", setup=(_deep_dirs("/deep", 1950),)),
    Case("ls_recursive_deep_tree", "ls -lR /deep", setup=(_deep_dirs("/deep", 1950),)),
    Case("chmod_events_deep_tree", "seq 1 200 | xargs -I{} chmod -R 777 /deep",
         setup=(_deep_dirs("/deep", 1950),), what="200 events listing 1950 long paths each"),
    Case("tee_events", "yes | head -c 15000 | tee " + " ".join(f"/tmp/f{i}" for i in range(300)),
         what="one write event per file, each with the content"),
    # work that is slow in Python itself: the CPU budget stops it
    Case("budget_many_greps", "seq 1 200 | xargs -I{} grep -c y /tmp/y",
         setup=("yes | head -c 199998 > /tmp/y",), what="200 greps over 100k lines"),
    Case("budget_many_sorts", "seq 1 200 | xargs -I{} sort -r /tmp/y", setup=("yes | head -c 199998 > /tmp/y",)),
    # structure
    Case("deep_bash_c", "bash -c " * 400 + "ls"),
    Case("many_pipes", "yes | " + "cat | " * 18 + "wc -l"),
    Case("parens", "(" * 3999),
    Case("line_100k", "echo " + "a" * 100_000),
    Case("xargs_nested", "yes | head -n 300 | xargs -n1 xargs -n1 xargs -n1 echo"),
]

_CHILD = r"""
import importlib.util, json, resource, sys, time
path, case, mem_mb, cpu_s = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
resource.setrlimit(resource.RLIMIT_AS, (mem_mb << 20, mem_mb << 20))
resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 2))
import os
if os.path.isdir(path):  # the shell package: load its __init__ with the folder as its search path
    spec = importlib.util.spec_from_file_location("shell_under_test", os.path.join(path, "__init__.py"),
                                                  submodule_search_locations=[path])
else:  # one shell.py (e.g. an older revision)
    spec = importlib.util.spec_from_file_location("shell_under_test", path)
mod = importlib.util.module_from_spec(spec)
sys.modules["shell_under_test"] = mod
spec.loader.exec_module(mod)
sh = mod.Shell({"/home/agent/notes.txt": "hello\n", "/shared/a.txt": "alpha\nbeta\n"}, {"bob": {"name": "Bob"}})
for line in case["setup"]:
    sh.run(line)
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
c0, t0 = cpu(), time.perf_counter()
sys.stdout.write(json.dumps({"started": c0}) + "\n")
sys.stdout.flush()
r = sh.run(case["line"])
events = json.dumps([e.to_dict() for e in r.events])
with open("/proc/self/status") as f:  # this process's own peak (ru_maxrss also counts the parent it was forked from)
    hwm = next((int(x.split()[1]) for x in f if x.startswith("VmHWM:")), None)
sys.stdout.write(json.dumps({"line_cpu_s": cpu() - c0, "line_wall_s": time.perf_counter() - t0,
                             "exit_code": r.exit_code, "output_chars": len(r.output), "output_tail": r.output[-300:],
                             "events": len(r.events), "event_chars": len(events),
                             "stopped": getattr(r, "stopped", None), "vmhwm_kb": hwm}) + "\n")
"""


def run_case(case: Case, shell_py: str | os.PathLike = SHELL_PY, *, mem_mb: int = 2048, cpu_s: int = 60,
             wall_s: float = 120.0, python: str = sys.executable) -> dict:
    """Run one case in a child; returns its figures (cpu_s and maxrss_mb of the whole child, the line's own)."""
    proc = subprocess.Popen([python, "-c", _CHILD, str(shell_py), json.dumps(asdict(case)), str(mem_mb), str(cpu_s)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    killer = threading.Timer(wall_s, proc.kill)
    killer.start()
    t0 = time.perf_counter()
    try:
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    finally:
        killer.cancel()
    wall = time.perf_counter() - t0
    lines = [json.loads(x) for x in out.splitlines() if x.startswith("{")]
    report = lines[-1] if lines and "line_cpu_s" in lines[-1] else {}
    started = lines[0].get("started", 0.0) if lines else 0.0
    child_cpu = usage.ru_utime + usage.ru_stime
    signal = -proc.returncode if proc.returncode < 0 else None
    return {
        "case": case.name,
        "ok": bool(report) and proc.returncode == 0,
        "cpu_s": report.get("line_cpu_s", child_cpu - started),  # the line's CPU (all of it if the child died)
        "child_cpu_s": child_cpu,
        # the child's peak RSS as it saw it; if it died, what wait4 says (which includes the parent's RSS
        # at the fork, so it is an upper bound)
        "maxrss_mb": (report.get("vmhwm_kb") or usage.ru_maxrss) / 1024,
        "wall_s": wall,
        "signal": signal,
        "killed_by": {9: "SIGKILL (wall limit)", 24: "SIGXCPU (CPU limit)"}.get(signal or 0, signal),
        "stderr_tail": "\n".join(x for x in out.splitlines() if not x.startswith("{"))[-400:],
        **{k: report.get(k) for k in ("exit_code", "output_chars", "output_tail", "events", "event_chars", "stopped")},
    }
