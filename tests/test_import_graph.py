"""The seams between layers: reading logs (tables, report, statistics) imports neither the agent loop,
the scorer nor any scenario family, and the formats they share live in neutral modules."""

import json
import subprocess
import sys

import pytest

from duress.models.scripted import register_script

FORBIDDEN = ("duress.agent", "duress.judges.rules", "duress.scenarios", "duress.task", "duress.tools")


def _modules(code: str) -> list[str]:
    """The duress modules loaded after running ``code`` in a fresh interpreter."""
    script = code + "\nimport sys, json\nprint(json.dumps(sorted(m for m in sys.modules if m.startswith('duress'))))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def _forbidden(modules: list[str], names=FORBIDDEN) -> list[str]:
    return [m for m in modules if any(m == n or m.startswith(n + ".") for n in names)]


READERS = ("duress.results", "duress.tables", "duress.report", "duress.stats", "duress.record", "duress.verdicts",
           "duress.judges.agreement", "duress.family_info")


def test_readers_and_formats_import_no_agent_scorer_or_family():
    # all in one interpreter: if none of them together pulls a forbidden module, none alone does
    modules = _modules("\n".join(f"import {m}" for m in READERS))
    assert set(READERS) <= set(modules)
    assert _forbidden(modules) == []


def test_the_agent_loop_imports_no_family_and_no_scorer():
    assert _forbidden(_modules("import duress.agent"), ("duress.scenarios", "duress.judges")) == []


def _accepts(messages, tools, config):
    return "I accept the decision."


@pytest.fixture(scope="module")
def log_dir(tmp_path_factory):
    from inspect_ai import eval as inspect_eval

    from duress.task import family_task

    root = tmp_path_factory.mktemp("graph")
    register_script("graph-accepts", _accepts)
    inspect_eval(family_task("blackmail", samples=1, protocol="text", successor_values="same,different"),
                 model="scripted/graph-accepts", log_dir=str(root / "logs"), display="none")
    return root / "logs"


def test_reading_a_log_and_writing_the_report_import_no_family(log_dir, tmp_path):
    """The log describes its family (outcomes, harmful ones, factor levels, title), so neither the
    table nor the report needs the registry to read it."""
    code = (f"from duress.results import summarise\nfrom duress.report import build_report\n"
            f"results, rows = summarise([{str(log_dir)!r}])\nassert len(results) == 2 and rows\n"
            f"build_report([{str(log_dir)!r}], __import__('pathlib').Path({str(tmp_path / 'r.html')!r}))")
    assert _forbidden(_modules(code)) == []
    from duress.scenarios import get_family

    assert get_family("blackmail").title in (tmp_path / "r.html").read_text(encoding="utf-8")


def test_a_log_without_the_family_description_reads_the_same(log_dir, tmp_path):
    """Logs written before the task kept its family's description fall back to the registry."""
    from inspect_ai.log import read_eval_log, write_eval_log

    from duress.family_info import METADATA_KEY
    from duress.results import summarise
    from duress.scenarios import get_family

    new = next(log_dir.glob("*.eval"))
    log = read_eval_log(str(new))
    described = log.eval.metadata["duress"][METADATA_KEY]
    fam = get_family("blackmail")
    assert described["outcomes"] == [o.name for o in fam.judged_outcomes]
    assert set(described["harmful"]) == fam.harmful and described["title"] == fam.title
    assert described["factors"]["successor_values"] == list(fam.factor("successor_values").levels)

    del log.eval.metadata["duress"][METADATA_KEY]
    old = tmp_path / "old"
    old.mkdir()
    write_eval_log(log, str(old / "old.eval"))
    results_new, rows_new = summarise([log_dir])
    results_old, rows_old = summarise([old])
    assert [(r.condition, r.outcome, r.k, r.n) for r in rows_old] == [(r.condition, r.outcome, r.k, r.n) for r in rows_new]
    assert [r.condition for r in results_old] == [r.condition for r in results_new]
    assert results_old[0].info == results_new[0].info
