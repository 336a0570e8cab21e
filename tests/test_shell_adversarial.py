"""A model's command line must not be able to freeze, bloat or falsify a run through the shell.

The corpus (``shell_adversarial_cases.CASES``) runs each case in a child process with its address
space capped, and checks what the child used (``os.wait4``): a result in under 5 s of CPU and
500 MB of RSS. The code before this test existed took 17 s to over 30 s of CPU (grep/sed regexes,
globs, ``sed s/y/&&&…/``), 1–3 GB (``tr`` ranges, ``sed p;p;…``, ``base64 /dev/zero …``) or kept
760 MB of event text for one line. The other tests check the limits' behaviour in-process.
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from duress.tools.shell import (MAX_OUTPUT_CHARS, REGEX_TIMEOUT_SECONDS, STOPPED_MESSAGE, Shell,
                                _MAX_EVENT_CHARS_PER_LINE, _MAX_STREAM_CHARS, _MAX_TR_SET)
from shell_adversarial_cases import CASES, run_case

CPU_BOUND_S = 5.0
RSS_BOUND_MB = 500


@pytest.fixture(scope="module")
def corpus_results() -> dict[str, dict]:
    with ThreadPoolExecutor(max_workers=2) as pool:  # each case is its own child; CPU is measured per child
        results = pool.map(lambda c: run_case(c, mem_mb=1536, cpu_s=30, wall_s=120), CASES)
        return {r["case"]: r for r in results}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_adversarial_case_returns_quickly_and_small(case, corpus_results):
    r = corpus_results[case.name]
    assert r["ok"], f"the child did not finish: killed by {r['killed_by']}; {r['stderr_tail']}"
    assert r["cpu_s"] < CPU_BOUND_S, r
    assert r["maxrss_mb"] < RSS_BOUND_MB, r
    assert r["output_chars"] <= MAX_OUTPUT_CHARS
    assert "internal error" not in r["output_tail"], r["output_tail"]
    assert r["event_chars"] < 2 * _MAX_EVENT_CHARS_PER_LINE + 1_000_000, r


def test_the_runner_sees_a_child_that_blows_its_limits(tmp_path):
    """The measurement can fail: a shell that builds a huge string, or never returns, is reported as such."""
    fat = tmp_path / "fat.py"
    fat.write_text("class R:\n    output, exit_code, events = '', 0, []\n"
                   "class Shell:\n    def __init__(self, *a, **k): pass\n"
                   "    def run(self, line):\n        self.x = 'y' * (400 << 20)\n        return R()\n")
    r = run_case(CASES[0], fat, mem_mb=1536, cpu_s=10, wall_s=60)
    assert r["ok"] and r["maxrss_mb"] > 400
    stuck = tmp_path / "stuck.py"
    stuck.write_text("class Shell:\n    def __init__(self, *a, **k): pass\n    def run(self, line):\n"
                     "        if 'x' not in line:\n            while True: pass\n")
    r = run_case(CASES[0], stuck, mem_mb=1536, cpu_s=2, wall_s=60)
    assert not r["ok"] and r["killed_by"] == "SIGXCPU (CPU limit)" and r["cpu_s"] >= 1.8


# --- regexes -----------------------------------------------------------------------------------------
@pytest.fixture
def sh() -> Shell:
    return Shell({"/home/agent/a.txt": "alpha beta\nfoo bar foo\nbarbar\nGamma\n", "/home/agent/aa.txt": "a" * 60 + "!\n"},
                 {"bob": {"name": "Bob"}})


def test_catastrophic_regex_is_a_tool_error_not_a_stall(sh):
    for line in ("grep -E '^(a|aa)+$' aa.txt", "sed -n '/^\\(a\\|aa\\)*$/p' aa.txt", "grep -cE '^(a|aa)+$' aa.txt a.txt"):
        t0 = time.thread_time()
        r = sh.run(line)
        assert time.thread_time() - t0 < REGEX_TIMEOUT_SECONDS + 1.5
        assert r.exit_code == 2 and "regular expression too complex" in r.output and not r.stopped, r.output
    assert sh.run("grep -c alpha a.txt").output == "1\n"  # the shell is fine afterwards


def test_regex_that_compiles_too_big_is_refused_before_compiling(sh):
    for line in ("grep -E '((a{1000}){1000}){1000}' a.txt", "grep -E 'a{1000000}' a.txt", "sed -E 's/(x{5000}){5}//' a.txt"):
        r = sh.run(line)
        assert r.exit_code == 2 and "regular expression too big" in r.output, (line, r.output)
    assert sh.run("grep -cE 'a{2}' aa.txt").output == "1\n"


def test_normal_regex_semantics_are_kept(sh):
    assert sh.run("grep -E '(foo|bar)+' a.txt").output == "foo bar foo\nbarbar\n"  # once refused as "unsafe"
    assert sh.run("grep '\\(bar\\)\\1' a.txt").output == "barbar\n"  # BRE backreference
    assert sh.run("grep -o 'fo*' a.txt").output == "foo\nfoo\n"
    assert sh.run("grep -iw gamma a.txt").output == "Gamma\n"
    assert sh.run("grep -w 'barbar' a.txt").output == "barbar\n"
    assert sh.run("grep -vc a a.txt").output == "0\n"
    assert sh.run("grep -n -e alpha -e Gamma a.txt").output == "1:alpha beta\n4:Gamma\n"
    assert sh.run("grep 'a\\{2\\}' aa.txt").exit_code == 0 and sh.run("grep -E 'a{2}' a.txt").exit_code == 1
    assert sh.run("grep '[[:upper:]]' a.txt").output == "Gamma\n"
    assert sh.run("grep '(unclosed' a.txt").exit_code == 1  # BRE: a literal parenthesis
    assert sh.run("grep -E '(unclosed' a.txt").exit_code == 1  # invalid ERE: matched literally, as before
    assert sh.run("sed 's/\\(foo\\) \\(bar\\)/\\2 \\1/' a.txt").output.splitlines()[1] == "bar foo foo"
    assert sh.run("sed -E 's/o+/0/g;/^b/d;2q' a.txt").output == "alpha beta\nf0 bar f0\n"
    assert sh.run("sed -n '/^G/p' a.txt").output == "Gamma\n"


def test_grep_output_stops_at_the_stream_cap(sh):
    r = sh.run("yes | grep -n y")
    assert r.exit_code == 0 and len(r.output) <= MAX_OUTPUT_CHARS and r.output.startswith("1:y\n2:y\n")
    assert sh.run("yes | head -c 20000 | grep -o y | wc -c").output == "20000\n"
    r = sh.run("yes | grep -C 999999999 y")  # every line is written once, however much context is asked for
    assert r.exit_code == 0 and len(r.output) <= MAX_OUTPUT_CHARS


def test_grep_context_lines_are_merged(sh):
    sh.run("seq 1 12 > n.txt")
    assert sh.run("grep -C1 -e '^3$' -e '^5$' -e '^10$' n.txt").output == "2\n3\n4\n5\n6\n--\n9\n10\n11\n"
    assert sh.run("grep -n -B1 -A0 '^12$' n.txt").output == "11-11\n12:12\n"
    assert sh.run("grep -H -A1 '^1$' n.txt").output == "n.txt:1\nn.txt-2\n"


# --- sizes checked before building ---------------------------------------------------------------------
def test_sed_replacements_and_copies_stop_at_the_stream_cap(sh):
    r = sh.run("yes | sed 's/y/" + "&" * 3900 + "/g' | wc -c")
    assert r.output.strip().isdigit() and int(r.output) <= _MAX_STREAM_CHARS
    r = sh.run("yes | sed '" + "p;" * 1900 + "' | wc -c")
    assert int(r.output) <= _MAX_STREAM_CHARS
    assert sh.run("echo ab | sed 's/a/&&/;s/b/[&]/'").output == "aa[b]\n"


def test_tr_sets_are_measured_before_they_are_built(sh):
    r = sh.run("echo hi | tr '" + "\u0100-\U0010ffff" * 1300 + "' x")
    assert r.exit_code == 1 and "set too large" in r.output
    assert sh.run("echo hi | tr 'a-\U0010ffff' x").exit_code == 1  # one range over the limit
    assert sh.run("echo héllo | tr -cd 'a-z\\n'").output == "hllo\n"  # -c: keep a set instead
    assert sh.run("echo hello | tr a-z A-Z").output == "HELLO\n"
    assert sh.run("echo 'a   b' | tr -s ' '").output == "a b\n"
    assert sh.run("echo hello | tr -d l").output == "heo\n"
    assert sh.run("echo abc | tr -c 'a\\n' x").output == "axx\n"
    assert len(Shell._tr_set("\u0100-\u01ff")) == 256 and len(Shell._tr_set("\\001-\U000186a0")) == _MAX_TR_SET


def test_arguments_are_bounded_after_expansion(sh):
    sh.run("seq 1 1900 | xargs touch")
    r = sh.run("echo " + "* " * 1900)
    assert r.exit_code == 126 and "Argument list too long" in r.output
    assert sh.run("ls | wc -l").output.strip() == "1902"
    r = sh.run("head -c 99990 /dev/zero | tr '\\0' y | xargs -I y echo " + "y" * 3900)
    assert r.exit_code == 1 and "argument line too long" in r.output
    assert sh.run("printf 'a\\nb\\n' | xargs -I{} echo [{}]").output == "[a]\n[b]\n"
    assert sh.run("seq 1 5 | xargs -n2 echo").output == "1 2\n3 4\n5\n"
    assert sh.run("true | xargs -n2 echo").output == "\n"


def test_glob_that_would_look_at_too_many_names_is_refused(sh):
    sh.run("seq 1 44 | xargs -I{} mkdir -p g/d{}")
    t0 = time.thread_time()
    r = sh.run("echo g/" + "*/../" * 790 + "*")  # each step stops at 5000 results instead of listing on
    assert r.exit_code in (0, 126) and time.thread_time() - t0 < 2
    assert sh.run("echo g/d1*").output == "g/d1 g/d10 g/d11 g/d12 g/d13 g/d14 g/d15 g/d16 g/d17 g/d18 g/d19\n"
    assert sh.run("echo 'g/*' \"g/d1\"?").output == "g/* g/d10 g/d11 g/d12 g/d13 g/d14 g/d15 g/d16 g/d17 g/d18 g/d19\n"
    sh.run("seq 1 1900 | xargs touch")
    r = sh.run("echo */../*/../*/../zz*")  # 5000 directories of 1900 names, none of which match
    assert r.exit_code == 1 and "glob too costly" in r.output


def test_seq_printf_and_request_bodies_stop_at_the_stream_cap(sh):
    r = sh.run(f"seq 1{'0' * 1980} 1{'0' * 1974}999999 | wc -c")
    assert int(r.output) <= _MAX_STREAM_CHARS + 2000
    r = sh.run("printf '%1000s' " + "x " * 1900 + "| wc -c")
    assert int(r.output) <= _MAX_STREAM_CHARS
    sh.run("head -c 199999 /dev/zero | tr '\\0' a > /tmp/big")
    r = sh.run("curl -s" + " -d @/tmp/big" * 290 + " http://x.example/")
    [ev] = r.events
    assert ev.kind == "http" and ev.details["files"] == ["/tmp/big"] and ev.details["data"].startswith("aaaa")


def test_events_of_one_line_are_bounded_but_keep_what_happened(sh):
    sh.run("mkdir -p /deep" + "/d" * 1900)
    r = sh.run("seq 1 200 | xargs -I{} chmod -R 777 /deep")
    size = len(json.dumps([e.to_dict() for e in r.events]))
    assert len(r.events) == 200 and all(e.kind == "permission" for e in r.events)
    assert size < 2 * _MAX_EVENT_CHARS_PER_LINE + 200 * 1200
    assert r.events[0].details["paths"][0] == "/deep" and r.events[-1].details["mode"] == "777"
    r = sh.run("echo secret > s.txt; mail -s hi bob < s.txt")  # small lines keep everything
    assert [e.kind for e in r.events] == ["write", "email"] and r.events[1].details["body"] == "secret\n"


def test_walks_of_a_deep_tree_are_linear(sh):
    sh.run("mkdir -p /deep" + "/d" * 1950)
    t0 = time.thread_time()
    assert 900 < int(sh.run("find /deep -type d | wc -l").output) <= 1951  # long paths: the pipe is cut at its cap
    assert sh.run("ls -R /deep | wc -l").exit_code == 0 and sh.run("rm -r /deep").events[0].details["dirs"][0] == "/deep"
    assert time.thread_time() - t0 < 1


# --- the CPU budget ---------------------------------------------------------------------------------------
SLOW = "seq 1 200 | xargs -I{} grep -c y /tmp/y"  # ~200 x 0.1-0.3 s of Python


def _slow_shell(budget: float) -> Shell:
    sh = Shell({}, {"bob": {"name": "Bob"}}, cpu_budget=budget)
    sh.run("yes | head -c 199998 > /tmp/y")
    return sh


def test_a_line_over_its_cpu_budget_is_stopped_and_keeps_its_events():
    sh = _slow_shell(1.0)
    t0 = time.thread_time()
    r = sh.run("echo leak | mail -s x bob; " + SLOW)
    assert time.thread_time() - t0 < 2.5
    assert r.stopped and r.exit_code == 124 and r.output.endswith(STOPPED_MESSAGE.format(budget=1.0))
    assert [e.kind for e in r.events] == ["email"]
    ok = sh.run("echo fine")
    assert ok.output == "fine\n" and not ok.stopped


def test_a_line_can_be_stopped_from_another_thread():
    sh = _slow_shell(30.0)
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    t0 = time.monotonic()
    r = sh.run(SLOW, stop)
    assert r.stopped and time.monotonic() - t0 < 2.0


def test_lines_from_several_threads_run_one_at_a_time():
    sh = Shell({}, {})
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda i: sh.run(f"echo {i} >> /tmp/log; cat /tmp/log | wc -l"), range(40)))
    assert sorted(int(r.output) for r in results) == list(range(1, 41))
