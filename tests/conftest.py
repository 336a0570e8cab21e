import os

import pytest

# Inspect must never reach for the network in tests (no telemetry, no tiktoken download).
os.environ.setdefault("INSPECT_LOG_LEVEL", "warning")


@pytest.fixture
def run_task(tmp_path):
    """Run a duress task on a model in-process through Inspect; return (log, rates by (condition, outcome))."""
    from inspect_ai import eval as inspect_eval

    from duress.results import summarise
    from duress.task import family_task

    def run(model, family="blackmail", eval_args=None, **params):
        log_dir = tmp_path / f"logs-{len(list(tmp_path.iterdir()))}"
        logs = inspect_eval(family_task(family, **params), model=model, log_dir=str(log_dir), display="none",
                            **(eval_args or {}))
        results, rows = summarise([log_dir])
        table = {(r.condition, r.outcome): r for r in rows}
        return logs[0], results, table

    return run
