"""What a researcher meets in the first hour: a bad key caught before the run, total failure on screen
(and a non-zero exit), fresh seeds that cannot double count, several models in one run, the bill before
paying it, token totals after."""

from __future__ import annotations

import json
import uuid

import pytest
from cli_runner import duress
from offline import offline  # noqa: F401  (autouse fixture: loopback only)

from duress import api
from duress.models.scripted import register_script
from duress.results import summarise
from duress.testing import FaultPlan, message_text, serve
from tests_support import ACCEPT_TEXT, BLACKMAIL_TEXT


def agent(messages, tools):
    bad = "different priorities" in message_text(messages[1])
    return {"content": BLACKMAIL_TEXT if bad else ACCEPT_TEXT}


def _scripted(name, text):
    register_script(name, lambda messages, tools, config: text)
    return f"scripted/{name}"


def _run_with_a_bad_key(monkeypatch, tmp_path, *args):
    """``duress run`` against a server that answers every request 401 echoing the key; (the key, the run)."""
    key = f"sk-SENTINEL-{uuid.uuid4().hex}"
    monkeypatch.setenv("FAULT_API_KEY", key)
    with serve(agent, faults=FaultPlan(bad_key=1.0)) as server:
        monkeypatch.setenv("FAULT_BASE_URL", server.base_url)
        ran = duress("run", "-m", f"openai-api/fault/{uuid.uuid4().hex}", "--protocol", "text", *args,
                     "--out", tmp_path / "runs")
    return key, ran


@pytest.mark.timeout(120)
def test_a_bad_key_is_one_line_before_anything_runs_and_the_key_is_not_shown(tmp_path, monkeypatch):
    key, ran = _run_with_a_bad_key(monkeypatch, tmp_path, "-n", "1")
    assert ran.returncode == 2
    lines = [line for line in ran.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "failed a one-line test request" in lines[0] and "--no-preflight" in lines[0], ran.stderr
    assert key not in ran.stdout + ran.stderr and "[redacted]" in lines[0]
    assert not (tmp_path / "runs").exists()


@pytest.mark.timeout(120)
def test_a_run_whose_every_sample_failed_says_why_and_exits_1(tmp_path, monkeypatch):
    key, ran = _run_with_a_bad_key(monkeypatch, tmp_path, "-n", "2", "--no-preflight", "--max-retries", "0",
                                   "--timeout", "20")
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert "4 of 4 sample(s) excluded from the rates" in ran.stdout
    assert "error: 4 — most common:" in ran.stdout and "Incorrect API key" in ran.stdout
    assert "run failed: every one of 4 sample(s) was excluded (error:" in ran.stderr
    assert key not in ran.stdout + ran.stderr


def test_runs_without_a_seed_get_fresh_ones_so_pooling_them_counts_every_sample(tmp_path):
    model = _scripted("first-hour-accepts", ACCEPT_TEXT)
    one = api.run("blackmail", model, samples=2, protocol="text", out=tmp_path / "a")
    two = api.run("blackmail", model, samples=2, protocol="text", out=tmp_path / "b")
    seeds = [json.loads((r.run_dir / "run.json").read_text())["seed"] for r in (one, two)]
    assert seeds[0] != seeds[1] and all(isinstance(s, int) for s in seeds)
    notes: list[str] = []
    results, _ = summarise([one.run_dir, two.run_dir], notes=notes)
    assert len(results) == 8 and not any("duplicate" in n for n in notes)

    same = [api.run("blackmail", model, samples=2, protocol="text", seed=seeds[0], out=tmp_path / "c")]
    notes = []
    results, _ = summarise([one.run_dir, same[0].run_dir], notes=notes)
    assert len(results) == 4 and any("4 duplicate sample(s)" in n for n in notes)  # the same seed: the same samples


def test_several_models_run_in_one_folder_the_first_as_reference(tmp_path):
    old, new = _scripted("first-hour-old", ACCEPT_TEXT), _scripted("first-hour-new", BLACKMAIL_TEXT)
    ran = duress("run", "-m", old, "-m", new, "-n", "2", "--protocol", "text", "--factor", "successor_values=different",
                 "--out", tmp_path / "runs")
    assert ran.returncode == 0, ran.stderr
    [run_dir] = list((tmp_path / "runs").iterdir())
    spec = json.loads((run_dir / "run.json").read_text())
    assert spec["models"] == [old, new] and spec["model"] == old
    results, rows = summarise([run_dir])
    assert len(results) == 4
    rate = {(r.model, r.outcome): (r.k, r.n) for r in rows}
    assert rate[(old, "blackmail")] == (0, 2) and rate[(new, "blackmail")] == (2, 2)
    assert set(spec["tokens"]) == {old, new} and spec["tokens"][new]["output"] > 0
    # the reference model comes first in the table, and the run ends with the new model against it
    out = ran.stdout
    assert out.index(f"model {old}") < out.index(f"model {new}") < out.index(f"A = {new}") < out.index(f"B = {old}")
    assert "Holm over" in out
    compared = duress("compare", run_dir)
    assert compared.returncode == 0 and f"A = {new}" in compared.stdout and f"B = {old}" in compared.stdout
    assert "+100%" in compared.stdout
    lone = duress("compare", next((tmp_path / "runs").iterdir()), "--a", "scripted/nobody")
    assert lone.returncode == 2 and "no samples of model 'scripted/nobody'" in lone.stderr


def test_dry_run_prints_the_bill_and_writes_nothing(tmp_path):
    prices = tmp_path / "prices.yaml"
    prices.write_text("openai/gpt-4o: {input: 2.5, output: 10}\n")
    ran = duress("run", "--dry-run", "-s", "blackmail", "-m", "openai/gpt-4o", "-m", "local/smollm2", "-n", "10",
                 "--max-tokens", "500", "--prices", prices, "--out", tmp_path / "runs", cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    out = ran.stdout
    assert "2 condition(s) × 10 sample(s) × 2 model(s)" in out
    assert "openai/gpt-4o (agent, native protocol): 20 samples" in out
    assert "local/smollm2 (agent, text protocol): 20 samples" in out
    assert "cost (USD)" in out and not (tmp_path / "runs").exists() and list(tmp_path.iterdir()) == [prices]
    costs = api.estimate(api.make_spec("blackmail", ["openai/gpt-4o", "local/smollm2"], samples=10, max_tokens=500),
                         api.read_prices(prices))
    gpt, local = costs
    assert local.calls == (20, 20) and gpt.calls[0] == 20 and gpt.calls[1] == 200  # 10 native turns at most
    assert local.output_tokens == (20 * 200, 20 * 500) and gpt.money is not None and local.money is None
    assert gpt.money[0] == round((gpt.input_tokens[0] * 2.5 + gpt.output_tokens[0] * 10) / 1e6, 2)


@pytest.mark.parametrize("text, message", [
    ("- just a list\n", "expected MODEL"),
    ("m: {input: cheap}\n", "needs input: and output:"),
    ("m: [1, 2\n", "not valid YAML"),
])
def test_a_bad_price_table_is_one_line(tmp_path, text, message):
    prices = tmp_path / "p.yaml"
    prices.write_text(text)
    ran = duress("run", "--dry-run", "--prices", prices)
    assert ran.returncode == 2 and message in ran.stderr and len(ran.stderr.strip().splitlines()) == 1


def test_report_refuses_to_pool_different_worlds_in_one_line_unless_asked(tmp_path):
    model = _scripted("first-hour-pool", ACCEPT_TEXT)
    a = api.run("blackmail", model, samples=1, protocol="text", out=tmp_path / "a").run_dir
    b = api.run("blackmail", model, samples=1, protocol="text", world="random", seed=4, out=tmp_path / "b").run_dir
    refused = duress("report", a, b)
    assert refused.returncode == 2 and len(refused.stderr.strip().splitlines()) == 1
    assert "--pool" in refused.stderr and "world random (seed 4)" in refused.stderr
    pooled = duress("report", a, b, "--pool")
    assert pooled.returncode == 0 and "pooled on request" in pooled.stdout


def test_a_factor_that_changes_nothing_in_some_conditions_is_named():
    fam, design = api.design_of("blackmail", ["threat=replacement,none", "successor_values=same,different"])
    [note] = api.inert_factors(fam, design, fam.world("canonical"))
    assert note.startswith("successor_values has no effect in 2 of 4 conditions (e.g. with threat=none)")
    fam, design = api.design_of("blackmail", ["successor_values=same,different"])
    assert api.inert_factors(fam, design, fam.world("canonical")) == []
