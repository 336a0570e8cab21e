"""duress compare, plan, export and sequential sampling, from the command line."""

import json

import pandas as pd
import pytest
from cli_runner import duress

from duress.results import summarise
from tests_support import ACCEPT_TEXT, BLACKMAIL_TEXT


def run(tmp_path, name, reply, *extra):
    script = tmp_path / f"{name}.json"
    script.write_text(json.dumps([reply]))
    out = duress("run", "--model", f"scripted/{script}", "--protocol", "text", "--out", str(tmp_path / name), *extra)
    assert out.returncode == 0, out.stderr
    return next((tmp_path / name).iterdir())


@pytest.fixture(scope="module")
def two_models(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("models")
    return run(tmp, "previous", ACCEPT_TEXT, "-n", "8"), run(tmp, "new", BLACKMAIL_TEXT, "-n", "8")


def test_compare_new_against_previous(two_models, tmp_path):
    previous, new = two_models
    out = duress("compare", previous, new, "--outcome", "blackmail", "--csv", tmp_path / "c.csv")
    assert out.returncode == 0, out.stderr
    rows = pd.read_csv(tmp_path / "c.csv")
    assert len(rows) == 2 and set(rows["outcome"]) == {"blackmail"}
    assert (rows["k1"] == 8).all() and (rows["k2"] == 0).all() and (rows["diff"] == 1.0).all()
    # Fisher exact for 8/8 vs 0/8 is 1/C(16,8) * 2 = 1.554e-4; Holm doubles it for two comparisons
    assert rows["p"].iloc[0] == pytest.approx(2 / 12870)
    assert rows["p_holm"].iloc[0] == pytest.approx(4 / 12870)
    assert "successor_values=same" in out.stdout and "A = scripted/" in out.stdout


def test_compare_levels_of_a_factor_and_bad_requests(two_models):
    previous, new = two_models
    out = duress("compare", new, "--by", "successor_values", "--a", "different", "--b", "same", "--outcome", "blackmail")
    assert out.returncode == 0 and "8/8" in out.stdout
    for args, message in ((["compare", new], "give two runs"), (["compare", new, new], "both runs are of"),
                          (["compare", new, "--by", "nope", "--a", "x", "--b", "y"], "unknown factor 'nope'"),
                          (["compare", new, "--by", "successor_values", "--a", "maybe", "--b", "same"], "no samples with")):
        bad = duress(*args)
        assert bad.returncode == 2 and message in bad.stderr, (args, bad.stderr)


def test_plan():
    out = duress("plan", "--rate", "0.5", "--halfwidth", "0.05")
    assert out.returncode == 0 and "381 samples per condition" in out.stdout
    out = duress("plan", "--rates", "0.84", "0.65")
    assert out.returncode == 0 and "80 samples per model" in out.stdout
    assert duress("plan").returncode == 2


def test_export_parquet_and_csv(two_models, tmp_path):
    previous, new = two_models
    assert duress("export", previous, new, "-o", tmp_path / "s.parquet").returncode == 0
    frame = pd.read_parquet(tmp_path / "s.parquet")
    assert len(frame) == 32 and frame.groupby("model")["blackmail"].sum().to_dict() == {
        f"scripted/{previous.parent.parent}/previous.json": 0, f"scripted/{new.parent.parent}/new.json": 16}
    assert duress("export", previous, "-o", tmp_path / "s.xlsx").returncode == 2


def test_sequential_sampling_stops_each_condition_at_its_precision(tmp_path):
    run_dir = run(tmp_path, "seq", BLACKMAIL_TEXT, "-n", "10", "--until-ci", "0.1", "--max-samples", "60")
    results, rows = summarise([run_dir])
    # at 10/10 the Wilson half-width is 0.139 > 0.1; at 20/20 it is 0.081: two rounds, 20 per condition
    ns = [r.n for r in rows if r.outcome == "blackmail"]
    assert ns == [20, 20]
    epochs = sorted({r.epoch for r in results})
    assert epochs == list(range(1, 21))  # rounds are numbered after one another, no duplicates
    info = json.loads((run_dir / "run.json").read_text())
    assert info["until_ci"] == 0.1
