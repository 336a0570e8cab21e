"""A run folder has one writer, a run that is incomplete says so, and folder problems get one line."""

import json

import pytest
from cli_runner import duress

from duress.models.scripted import register_script
from tests_support import ACCEPT_TEXT, BLACKMAIL_TEXT

ARGS = ["--protocol", "text", "-n", "2", "--factor", "successor_values=same"]


@pytest.fixture
def script_model(tmp_path):
    script = tmp_path / "agent.json"
    script.write_text(json.dumps({"replies": [ACCEPT_TEXT],
                                  "when": [{"contains": "different priorities", "replies": [BLACKMAIL_TEXT]}]}))
    return f"scripted/{script}"


def only_run(out):
    [run_dir] = list(out.iterdir())
    return run_dir


def test_two_runs_in_the_same_second_get_two_folders(tmp_path, script_model, monkeypatch):
    import duress.api as api

    monkeypatch.setattr(api.time, "strftime", lambda fmt, *a: "20260101-000000")
    first = duress("run", "-m", script_model, *ARGS, "--out", tmp_path / "runs")
    second = duress("run", "-m", script_model, *ARGS, "--out", tmp_path / "runs")
    assert first.returncode == second.returncode == 0, second.stderr
    names = sorted(p.name for p in (tmp_path / "runs").iterdir())
    assert len(names) == 2 and names[1] == names[0] + "-2"


def test_an_unwritable_out_folder_is_one_line(tmp_path, script_model):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    out = duress("run", "-m", script_model, *ARGS, "--out", blocker / "runs")
    assert out.returncode == 2 and "cannot create the run folder" in out.stderr and "Traceback" not in out.stderr


def test_a_run_folder_in_use_is_refused(tmp_path, script_model):
    from filelock import FileLock

    assert duress("run", "-m", script_model, *ARGS, "--out", tmp_path / "runs").returncode == 0
    run_dir = only_run(tmp_path / "runs")
    with FileLock(str(run_dir / ".duress.lock")):  # another duress holds it
        out = duress("run", "--resume", run_dir)
    assert out.returncode == 2 and "being run by another duress process" in out.stderr
    assert duress("run", "--resume", run_dir).returncode == 0  # once released, resuming works


def test_a_corrupt_log_on_resume_is_one_line(tmp_path, script_model):
    assert duress("run", "-m", script_model, *ARGS, "--out", tmp_path / "runs").returncode == 0
    run_dir = only_run(tmp_path / "runs")
    [log] = list((run_dir / "logs").rglob("*.eval"))
    log.write_bytes(log.read_bytes()[:200])  # truncated
    out = duress("run", "--resume", run_dir)
    assert out.returncode == 2 and "is not a readable Inspect log" in out.stderr and log.name in out.stderr
    assert "Traceback" not in out.stderr


def test_an_eval_that_did_not_finish_makes_the_run_incomplete(tmp_path, script_model, monkeypatch):
    import inspect_ai

    real = inspect_ai.eval_set

    def half_done(*args, **kwargs):  # the eval ran, but the eval set reports it did not finish
        _, logs = real(*args, **kwargs)
        return False, logs

    monkeypatch.setattr(inspect_ai, "eval_set", half_done)
    out = duress("run", "-m", script_model, *ARGS, "--out", tmp_path / "runs")
    assert out.returncode == 1
    assert "INCOMPLETE" in out.stdout and "run incomplete" in out.stderr and "duress run --resume" in out.stderr


def test_a_full_disk_makes_the_run_incomplete_not_complete(tmp_path, script_model, monkeypatch):
    import errno

    import inspect_ai

    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(inspect_ai, "eval_set", no_space)
    out = duress("run", "-m", script_model, *ARGS, "--out", tmp_path / "runs")
    assert out.returncode != 0 and "No space left on device" in out.stderr + out.stdout


def test_a_sample_over_its_message_limit_is_excluded_as_limit(run_task):
    from duress.results import samples_frame

    register_script("chatty", [{"text": "Reading.", "tool_calls": [{"function": "list_emails", "arguments": {}}]}])
    log, results, table = run_task("scripted/chatty", protocol="native", max_turns=10, message_limit=6)
    [r] = results
    assert r.excluded == "limit" and "message limit" in r.detail
    assert samples_frame(results)["excluded"].tolist() == ["limit"]
    assert table[(r.condition, "accepts")].n == 0  # not judged as "did nothing"


def test_the_same_samples_in_two_logs_are_counted_once_and_said(tmp_path, script_model):
    import shutil

    assert duress("run", "-m", script_model, *ARGS, "--out", tmp_path / "runs").returncode == 0
    run_dir = only_run(tmp_path / "runs")
    [log] = list((run_dir / "logs").rglob("*.eval"))
    copy = tmp_path / "copy"
    copy.mkdir()
    shutil.copy(log, copy / log.name.replace(".eval", "-copy.eval"))  # a second log of the same samples
    from inspect_ai.log import read_eval_log, write_eval_log

    twin = read_eval_log(str(copy / log.name.replace(".eval", "-copy.eval")))
    twin.eval.task_id = "another-task-id"  # not a resumed twin: a second writer's log
    write_eval_log(twin, str(copy / "twin.eval"))
    (copy / log.name.replace(".eval", "-copy.eval")).unlink()
    out = duress("report", run_dir, copy)
    assert out.returncode == 0 and "2 duplicate sample(s)" in out.stdout
    assert "n=2" in out.stdout and "n=4" not in out.stdout


def test_an_error_line_is_not_read_as_markup(tmp_path):
    out = duress("run", "--factor", "[bold]threat[/]=none")
    assert out.returncode == 2 and "[bold]threat[/]" in out.stderr
