"""duress as a library: run, resume and run_until from Python give the same runs and numbers as the CLI."""

import json

import pytest
from cli_runner import duress

from duress import api
from duress.models.scripted import register_script
from tests_support import ACCEPT_TEXT, BLACKMAIL_TEXT


def _agent(messages, tools, config):
    text = "\n".join(m.text for m in messages)
    return BLACKMAIL_TEXT if "different priorities" in text else ACCEPT_TEXT


@pytest.fixture(scope="module", autouse=True)
def scripted():
    register_script("api-agent", _agent)


def _numbers(result):
    return [(r.condition, r.outcome, r.k, r.n) for r in result.rows]


def test_run_returns_the_table_the_samples_and_the_files(tmp_path):
    result = api.run("blackmail", "scripted/api-agent", factors={"successor_values": ["same", "different"]},
                     samples=2, protocol="text", out=tmp_path)
    assert result.complete and result.expected == 4 and len(result.results) == 4 and result.excluded == 0
    rates = {(r.condition.split("successor_values=")[1].split(",")[0], r.outcome): (r.k, r.n) for r in result.rows}
    assert rates[("different", "blackmail")] == (2, 2) and rates[("same", "blackmail")] == (0, 2)
    assert "blackmail · scripted/api-agent" in result.title
    for name in ("run.json", "results.csv", "samples.csv", "samples.parquet"):
        assert (result.run_dir / name).is_file()
    spec = api.read_spec(result.run_dir)
    assert spec.factors == ["successor_values=same,different"] and spec.samples == 2 and spec.policy == "rules"


def test_the_api_and_the_cli_give_the_same_numbers(tmp_path):
    result = api.run("blackmail", "scripted/api-agent", factors=["successor_values=same,different"], samples=2,
                     protocol="text", out=tmp_path / "api")
    out = duress("run", "--model", "scripted/api-agent", "--factor", "successor_values=same,different", "-n", "2",
                 "--protocol", "text", "--out", tmp_path / "cli")
    assert out.returncode == 0, out.stderr
    cli_dir = next((tmp_path / "cli").iterdir())
    assert _numbers(result) == [(r["condition"], r["outcome"], int(r["k"]), int(r["n"]))
                                for r in __import__("csv").DictReader((cli_dir / "results.csv").open())]


def test_resume_of_a_finished_run_runs_nothing_and_gives_the_same_numbers(tmp_path):
    calls = []

    def counting(messages, tools, config):
        calls.append(1)
        return _agent(messages, tools, config)

    register_script("api-counting", counting)
    first = api.run("blackmail", "scripted/api-counting", samples=3, protocol="text", out=tmp_path,
                    factors={"successor_values": "different"})
    n = len(calls)
    again = api.resume(first.run_dir)
    assert len(calls) == n and again.run_dir == first.run_dir and _numbers(again) == _numbers(first)


def test_run_until_stops_when_the_intervals_are_narrow_enough(tmp_path):
    result = api.run_until(0.3, "blackmail", "scripted/api-agent", batch=4, max_samples=12, protocol="text",
                           factors={"successor_values": "different"}, out=tmp_path)
    # all 'yes' (or all 'no'): the Wilson half-width at n=4 is 0.245 ≤ 0.3 on every outcome, so one round suffices
    assert result.complete and result.expected == 4 and len(result.results) == 4
    assert (result.run_dir / "logs" / "round-01").is_dir() and not (result.run_dir / "logs" / "round-02").exists()


@pytest.mark.parametrize("kwargs, message", [
    ({"factors": {"nope": "x"}}, "unknown factor 'nope'"),
    ({"samples": 0}, "samples: Input should be greater than or equal to 1"),
    ({"protocol": "xml"}, "protocol: Input should be 'auto', 'native' or 'text'"),
    ({"policy": "llm"}, "--policy llm needs a judge model"),
    ({"colour": "blue"}, "colour"),
])
def test_bad_input_raises_one_line_and_writes_nothing(tmp_path, kwargs, message):
    with pytest.raises(api.UsageError) as err:
        api.run("blackmail", "scripted/api-agent", out=tmp_path / "runs", **kwargs)
    assert message in str(err.value) and "\n" not in str(err.value)
    assert not (tmp_path / "runs").exists()


def test_resume_of_a_folder_without_run_json_is_a_usage_error(tmp_path):
    with pytest.raises(api.UsageError, match="run.json is missing or unreadable"):
        api.resume(tmp_path)
    (tmp_path / "run.json").write_text(json.dumps({"scenario": "blackmail", "model": "x", "samples": -1}))
    with pytest.raises(api.UsageError, match="samples"):
        api.resume(tmp_path)
