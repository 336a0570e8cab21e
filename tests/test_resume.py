"""Kill a run (SIGKILL) at random points, many times, then resume it: nothing lost, nothing doubled,
and the numbers equal those of an uninterrupted run."""

import json
import os
import random
import signal
import subprocess
import sys
import time

from duress.results import summarise
from tests_support import ACCEPT_TEXT, BLACKMAIL_TEXT


def start(*args):
    return subprocess.Popen([sys.executable, "-m", "duress.cli", "run", *map(str, args)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "COLUMNS": "120"},
                            start_new_session=True)


def numbers(run_dir):
    results, rows = summarise([run_dir])
    return (sorted((r.sample_id, r.epoch, r.excluded, tuple(sorted(r.outcomes.items()))) for r in results),
            [(r.condition, r.outcome, r.k, r.n) for r in rows])


def test_sigkill_and_resume_loses_and_duplicates_nothing(tmp_path):
    script = tmp_path / "agent.json"
    script.write_text(json.dumps({"replies": [ACCEPT_TEXT], "delay": 0.12,
                                  "when": [{"contains": "different priorities", "replies": [BLACKMAIL_TEXT]}]}))
    args = ["--model", f"scripted/{script}", "--protocol", "text", "-n", "15", "--max-connections", "2"]

    reference = start(*args, "--out", tmp_path / "reference")
    assert reference.wait(timeout=300) == 0, reference.stderr.read()
    expected = numbers(next((tmp_path / "reference").iterdir()))
    assert len(expected[0]) == 30

    rng = random.Random(7)
    proc = start(*args, "--out", tmp_path / "killed")
    kills = 0
    for _ in range(6):
        time.sleep(rng.uniform(3.0, 5.5))  # start-up takes ~3 s; samples then finish every ~60 ms
        if proc.poll() is not None:
            break
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        kills += 1
        run_dir = next((tmp_path / "killed").iterdir())
        proc = start("--resume", run_dir)
    assert proc.wait(timeout=300) == 0, proc.stderr.read()
    assert kills >= 2  # the run really was interrupted, more than once
    assert numbers(run_dir) == expected


def test_resume_needs_a_run_folder(tmp_path):
    from cli_runner import duress

    out = duress("run", "--resume", tmp_path)
    assert out.returncode == 2 and "cannot resume" in out.stderr
