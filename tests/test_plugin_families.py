"""Families from outside the package: the ``duress.families`` entry points, a broken plugin, and a family
scaffolded by ``duress new-family`` run end to end (registered through a stand-in entry point, not installed)."""

import importlib.metadata as md
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

import duress
from cli_runner import duress as cli
from duress.models.scripted import register_script
from duress.scaffold import ScaffoldError, package_name, scaffold_family
from duress.scenarios import family_names, family_origin, get_family, plugin_problems, plugins, reload_plugins

BUILTIN = {"blackmail", "bold_action", "leaking"}
SRC = Path(duress.__file__).resolve().parents[1]  # the tree under test (a worktree or the installed one)


def entry_point(name, value):
    return md.EntryPoint(name, value, plugins.GROUP)


class Plugged:
    """Replace the installed entry points of the group with ``eps`` (and the generated ``paths`` on sys.path)."""

    def __init__(self, eps, paths=()):
        self.eps, self.paths = list(eps), [str(p) for p in paths]

    def __enter__(self):
        self.saved = plugins.entry_points
        plugins.entry_points = lambda: list(self.eps)
        sys.path[:0] = self.paths
        reload_plugins()
        return self

    def __exit__(self, *exc):
        plugins.entry_points = self.saved
        for p in self.paths:
            sys.path.remove(p)
        for mod in [m for m in sys.modules if m.startswith("duress_")]:
            del sys.modules[mod]
        reload_plugins()


@pytest.fixture(scope="module")
def scaffolded(tmp_path_factory):
    """The family ``harbour`` scaffolded into a tmp folder and registered as an entry point would register it."""
    root = tmp_path_factory.mktemp("fam")
    written = scaffold_family("harbour", root)
    project = root / "harbour"
    with Plugged([entry_point("harbour", f"{package_name('harbour')}.family:build")], [project / "src"]):
        yield project, written


def test_scaffold_writes_an_installable_package_with_the_entry_point(scaffolded):
    project, written = scaffolded
    rel = sorted(p.relative_to(project).as_posix() for p in written)
    assert rel == ["README.md", "pyproject.toml", "src/duress_harbour/__init__.py", "src/duress_harbour/family.py",
                   "src/duress_harbour/outcomes.py", "src/duress_harbour/rubrics.yaml",
                   "src/duress_harbour/templates/inbox.j2", "src/duress_harbour/templates/system.j2",
                   "tests/test_harbour.py"]
    import tomllib

    meta = tomllib.loads((project / "pyproject.toml").read_text())
    assert meta["project"]["entry-points"]["duress.families"] == {"harbour": "duress_harbour.family:build"}
    assert set(meta["tool"]["setuptools"]["package-data"]["duress_harbour"]) == {"templates/*.j2", "rubrics.yaml"}
    for path in written:  # every placeholder filled in; the scenario says it is one
        text = path.read_text()
        assert "__family__" not in text and "__package__" not in text, path
    assert all("edit me" in (project / f).read_text().lower() for f in
               ("README.md", "src/duress_harbour/family.py", "src/duress_harbour/templates/inbox.j2",
                "src/duress_harbour/outcomes.py", "src/duress_harbour/rubrics.yaml"))


def test_the_scaffolded_family_is_listed_and_runs_end_to_end(scaffolded, tmp_path):
    assert "harbour" in family_names() and BUILTIN <= set(family_names())
    assert family_origin("harbour").startswith("entry point 'harbour = duress_harbour.family:build'")
    assert family_origin("leaking") == "duress"
    with pytest.raises(ScaffoldError, match="'harbour' is already the family of entry point 'harbour = "):
        scaffold_family("harbour", tmp_path)
    fam = get_family("harbour")
    outsider = fam.world("canonical")["outsider"].email

    def agent(messages, tools, config):  # writes to the outsider when one wrote, else to the manager
        asked = any(outsider in m.text for m in messages if m.role == "user")
        to = outsider if asked else fam.world("canonical")["manager"].email
        return f'<tool_use:email>\nto: "{to}",\nsubject: "Schedule",\nbody: "Noted.",\n</tool_use:email>'

    register_script("plugin-harbour", agent)
    listed = cli("scenarios")
    assert listed.returncode == 0 and "harbour: harbour (edit me)" in listed.stdout and "emails_outside" in listed.stdout
    assert "(from the duress.families entry point 'harbour = duress_harbour.family:build'" in listed.stdout
    ran = cli("run", "-s", "harbour", "--model", "scripted/plugin-harbour", "-n", "2", "--protocol", "text",
              "--out", tmp_path / "runs")
    assert ran.returncode == 0, ran.stderr
    lines = ran.stdout.splitlines()
    rows = {}
    for i, line in enumerate(lines):
        if line.startswith("request="):  # a condition's line, its outcomes' rows below it
            cond = line.split()[0]
            rows[cond] = next(ln for ln in lines[i + 1:] if "emails_outside" in ln)
    assert "2/2" in rows["request=asked"] and "0/2" in rows["request=none"], ran.stdout
    from duress.results import summarise

    results, table = summarise([next((tmp_path / "runs").iterdir()) / "logs"])
    assert len(results) == 4 and {r.outcome for r in table} >= {"emails_outside"}


def test_the_scaffolded_family_has_what_every_family_must_have(scaffolded):
    from duress.design import build_design
    from duress.judges.llm import family_folder, plan_for, rubrics

    fam = get_family("harbour")
    assert family_folder(fam) == scaffolded[0] / "src" / "duress_harbour"
    assert set(rubrics(family_folder(fam))) >= {o.name for o in fam.judged_outcomes}
    assert "emails_outside [harmful]" in plan_for(fam).system  # the LLM judge reads its rubric
    assert len(build_design(fam.factors, fam.default_choices).conditions()) == 2


def test_the_generated_test_passes(scaffolded):
    project, _ = scaffolded
    env = {**os.environ, "PYTHONPATH": str(SRC)}  # the project's own src/ is on pytest's pythonpath
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], cwd=project,
                         capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert "5 passed" in out.stdout


BROKEN = [
    entry_point("missing", "no_such_package_xyz.family:build"),  # does not import
    entry_point("wrong_type", "json:loads"),  # not a builder of a Family (raises when called without arguments)
    entry_point("not_a_family", "os:getcwd"),  # builds a str
    entry_point("leaking", "duress.scenarios.leaking.family:build"),  # a built-in family's name
    entry_point("misnamed", "duress.scenarios.leaking.family"),  # a module with build(), but of another name
]


def test_a_broken_plugin_is_one_line_and_leaves_the_built_in_families_alone(caplog):
    with Plugged(BROKEN), caplog.at_level(logging.WARNING, logger="duress.families"):
        assert set(family_names()) == BUILTIN
        family_names()  # listed once per process
        lines = [r.getMessage() for r in caplog.records if r.name == "duress.families"]
        assert len(lines) == len(BROKEN) and all("\n" not in ln for ln in lines)
        problems = plugin_problems()
        assert "cannot be imported (ModuleNotFoundError: No module named 'no_such_package_xyz')" in problems["missing"]
        assert "entry point 'missing = no_such_package_xyz.family:build'" in problems["missing"]
        assert "building the family failed (TypeError" in problems["wrong_type"]
        assert "returned a str, not a duress.scenarios.base.Family" in problems["not_a_family"]
        assert "clashes with the built-in family 'leaking'" in problems["leaking"]
        assert "builds the family 'leaking'; the entry point must be named after its family" in problems["misnamed"]
        assert get_family("leaking").name == "leaking" and family_origin("leaking") == "duress"
        with pytest.raises(KeyError, match="scenario 'missing' is not available: duress.families entry point 'missing"):
            get_family("missing")
        ran = cli("run", "-s", "missing", "--model", "scripted/x")
        assert ran.returncode == 2 and len(ran.stderr.strip().splitlines()) == 1
        assert "entry point 'missing = no_such_package_xyz.family:build'" in ran.stderr and "cannot be imported" in ran.stderr


def test_a_broken_plugin_prints_one_line_when_the_families_are_listed():
    code = ("import importlib.metadata as md, sys\nfrom duress.scenarios import plugins\n"
            "plugins.entry_points = lambda: [md.EntryPoint('missing', 'no_such_package_xyz:build', plugins.GROUP)]\n"
            "from duress.cli import main\nsys.argv = ['duress', 'scenarios']\nmain()\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(SRC), "COLUMNS": "100"})
    assert out.returncode == 0, out.stderr
    assert out.stderr.strip().splitlines() == [
        "duress.families entry point 'missing = no_such_package_xyz:build' skipped: cannot be imported "
        "(ModuleNotFoundError: No module named 'no_such_package_xyz')"]
    assert all(f"{name}:" in out.stdout for name in BUILTIN)


@pytest.mark.parametrize("name, why", [("2fast", "not a valid family name"), ("my-family", "not a valid family name"),
                                       ("class", "not a valid family name"), ("leaking", "already a built-in family")])
def test_new_family_refuses_a_bad_or_taken_name_and_writes_nothing(tmp_path, name, why):
    ran = cli("new-family", name, "--dest", tmp_path / "out")
    assert ran.returncode == 2 and why in ran.stderr and len(ran.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()
    with pytest.raises(ScaffoldError, match=why):
        scaffold_family(name, tmp_path / "out")


def test_new_family_refuses_an_existing_folder_and_says_what_to_do_next(tmp_path):
    ran = cli("new-family", "quay", cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert "pip install -e quay" in ran.stdout and "duress run -s quay" in ran.stdout
    assert "quay/src/duress_quay/family.py" in ran.stdout
    before = sorted(p.as_posix() for p in tmp_path.rglob("*"))
    again = cli("new-family", "quay", cwd=tmp_path)
    assert again.returncode == 2 and "already exists" in again.stderr and len(again.stderr.strip().splitlines()) == 1
    assert sorted(p.as_posix() for p in tmp_path.rglob("*")) == before


def test_the_scaffold_templates_are_shipped_as_package_data():
    """Every scaffold template matches a package-data pattern of duress's pyproject (a wheel carries it)."""
    import fnmatch
    import tomllib

    root = SRC.parent / "pyproject.toml"
    if not root.is_file():
        pytest.skip("duress is not run from its source tree")
    patterns = tomllib.loads(root.read_text())["tool"]["setuptools"]["package-data"]["duress"]
    from duress.scaffold import TEMPLATES

    files = [p.relative_to(TEMPLATES.parent).as_posix() for p in TEMPLATES.rglob("*") if p.is_file()
             and "__pycache__" not in p.parts]
    assert files and [f for f in files if not any(fnmatch.fnmatchcase(f, pat) and f.count("/") == pat.count("/")
                                                  for pat in patterns)] == []
