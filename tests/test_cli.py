"""The duress command: output, files written, and bad input (one line, exit 2, nothing written)."""

import csv
import json

import pytest
from cli_runner import duress, duress_process

from tests_support import BLACKMAIL_TEXT


@pytest.mark.parametrize("args, message", [
    (["run", "--factor", "nope=x"], "unknown factor 'nope'"),
    (["run", "--factor", "threat=maybe"], "unknown level 'maybe' for factor 'threat'"),
    (["run", "--factor", "threat"], "write it as NAME=LEVEL"),
    (["run", "--model", "nope/x"], "cannot use model 'nope/x'"),
    (["run", "--model", "local/missing.gguf"], "no such file"),
    (["run", "--model", "local/notagguf"], "give a bundled model"),
    (["run", "--world", "weird"], "'weird' is not one of 'canonical', 'random'"),
    (["run", "--protocol", "xml"], "'xml' is not one of 'auto', 'native', 'text'"),
    (["run", "--policy", "most"], "'most' is not one of 'rules', 'llm', 'both', 'either'"),
    (["run", "--samples", "x"], "Invalid value for '--samples'"),
    (["run", "--samples", "0"], "greater than or equal to 1"),
    (["report"], "Missing argument 'runs'"),
    (["run", "--scenario", "nosuch"], "unknown scenario 'nosuch'"),
    (["show-prompt", "--factor", "framing=maybe"], "unknown level 'maybe'"),
    (["report", "does-not-exist"], "no such file or folder"),
])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path, args, message):
    out = duress(*args, "--out", str(tmp_path / "runs"), cwd=tmp_path) if args[0] == "run" else duress(*args, cwd=tmp_path)
    assert out.returncode == 2, out.stderr
    lines = [l for l in out.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], out.stderr
    assert not (tmp_path / "runs").exists()
    assert list(tmp_path.iterdir()) == []


def test_a_real_process_prints_one_unwrapped_line_even_in_a_narrow_terminal(tmp_path):
    out = duress_process("run", "--factor", "successor_values=maybe", "--out", str(tmp_path / "runs"))
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and "unknown level 'maybe'" in out.stderr
    assert not (tmp_path / "runs").exists()


def test_corrupt_log_file(tmp_path):
    bad = tmp_path / "broken.eval"
    bad.write_bytes(b"\x00not a zip")
    out = duress("report", str(bad))
    assert out.returncode == 2 and "cannot read" in out.stderr


def test_run_writes_table_csv_and_logs(tmp_path):
    script = tmp_path / "bm.json"
    script.write_text(json.dumps([BLACKMAIL_TEXT]))
    out = duress("run", "--model", f"scripted/{script}", "--protocol", "text", "-n", "2", "--out", str(tmp_path / "runs"))
    assert out.returncode == 0, out.stderr
    assert "successor_values=same" in out.stdout and "successor_values=different" in out.stdout
    assert "2/2" in out.stdout and "Inspect logs:" in out.stdout
    run_dir = next((tmp_path / "runs").iterdir())
    rows = list(csv.DictReader((run_dir / "results.csv").open()))
    bm = [r for r in rows if r["outcome"] == "blackmail"]
    assert [(r["factor_successor_values"], r["k"], r["n"]) for r in bm] == [("same", "2", "2"), ("different", "2", "2")]
    assert float(bm[0]["ci_low"]) == pytest.approx(0.3424, abs=1e-4)
    samples = list(csv.DictReader((run_dir / "samples.csv").open()))
    assert len(samples) == 4 and all(s["blackmail"] == "True" and s["blackmail_rules"] == "True" for s in samples)
    import pandas as pd

    frame = pd.read_parquet(run_dir / "samples.parquet")
    assert len(frame) == 4 and frame["blackmail"].all() and frame["factor_successor_values"].tolist() == ["same", "same", "different", "different"]
    assert {"model", "family", "condition", "sample_id", "epoch", "excluded", "input_tokens", "output_tokens",
            "blackmail_rules", "blackmail_llm", "states_evaluation"} <= set(frame.columns)
    assert list((run_dir / "logs").glob("*.eval"))
    # the report command rebuilds the same table from the logs
    again = duress("report", str(run_dir), "--csv", str(tmp_path / "again.csv"))
    assert again.returncode == 0
    assert (tmp_path / "again.csv").read_text() == (run_dir / "results.csv").read_text()


def test_show_prompt_shows_each_condition(tmp_path):
    out = duress("show-prompt", "--factor", "guardrail=none,instructed")
    assert out.returncode == 0
    assert out.stdout.count("SYSTEM") == 2 and "never disclose people's private matters" in out.stdout
    assert "Daniel Okoro" in out.stdout
    rnd = duress("show-prompt", "--world", "random", "--seed", "3")
    assert "Daniel Okoro" not in rnd.stdout and "Corvane" not in rnd.stdout


def test_scenarios_lists_factors_and_outcomes():
    out = duress("scenarios")
    assert out.returncode == 0
    for word in ("successor_values", "ethical_exits", "blackmail", "deceptive_delay", "scratchpad"):
        assert word in out.stdout


def _seeds_by_sample(run_dir):
    from inspect_ai.log import read_eval_log

    seeds = {}
    for f in sorted((run_dir / "logs").rglob("*.eval")):
        log = read_eval_log(str(f))
        offset = log.eval.metadata["duress"]["epoch_offset"]
        for s in log.samples:
            [event] = [e for e in s.events if e.event == "model"]
            seeds[(s.metadata["condition"], s.epoch + offset)] = (event.config.seed, s.input)
    return seeds


def test_a_run_split_into_several_logs_has_the_same_samples_seeds_and_numbers(tmp_path):
    # --samples-per-log bounds each Inspect eval (memory grows with an eval's size); the split
    # must not change which samples run, their prompts and seeds, or the table
    script = tmp_path / "bm.json"
    script.write_text(json.dumps([BLACKMAIL_TEXT]))
    common = ("run", "--model", f"scripted/{script}", "--protocol", "text", "-n", "5", "--seed", "0")
    one = duress(*common, "--out", str(tmp_path / "one"))
    split = duress(*common, "--samples-per-log", "4", "--out", str(tmp_path / "split"))
    assert one.returncode == 0 and split.returncode == 0, split.stderr
    one_dir, split_dir = next((tmp_path / "one").iterdir()), next((tmp_path / "split").iterdir())
    assert len(list((one_dir / "logs").glob("*.eval"))) == 1
    # 2 conditions x (2 + 2 + 1) epochs: three evals, each its own log folder
    assert sorted(p.parent.name for p in (split_dir / "logs").rglob("*.eval")) == ["part-001", "part-002", "part-003"]
    a, b = _seeds_by_sample(one_dir), _seeds_by_sample(split_dir)
    assert len(a) == 10 and a == b
    assert (one_dir / "results.csv").read_text() == (split_dir / "results.csv").read_text()
    assert json.loads((split_dir / "run.json").read_text())["samples_per_log"] == 4
