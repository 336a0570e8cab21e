"""Pooling runs: samples shown different worlds or protocols are not silently merged into one rate."""

import pytest

from duress import api
from duress.models.scripted import register_script
from duress.results import ResultsError, summarise
from tests_support import ACCEPT_TEXT


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    register_script("pooling-accepts", lambda messages, tools, config: ACCEPT_TEXT)
    root = tmp_path_factory.mktemp("pooling")
    common = dict(samples=2, protocol="text", factors={"successor_values": "same"})
    canonical = api.run("blackmail", "scripted/pooling-accepts", out=root / "c", **common).run_dir
    again = api.run("blackmail", "scripted/pooling-accepts", out=root / "c2", **common).run_dir
    random3 = api.run("blackmail", "scripted/pooling-accepts", world="random", seed=3, out=root / "r", **common).run_dir
    return canonical, again, random3


def test_two_runs_of_the_same_setting_pool_without_a_word(runs):
    canonical, again, _ = runs
    notes: list[str] = []
    results, rows = summarise([canonical, again], notes=notes)
    assert len(results) == 4 and not notes
    assert {r.setting for r in results} == {"world canonical, protocol text"}


def test_a_canonical_and_a_random_world_are_not_pooled_unless_asked(runs):
    canonical, _, random3 = runs
    with pytest.raises(ResultsError, match=r"2 settings for the same condition: world canonical, protocol text vs "
                                           r"world random \(seed 3\), protocol text.*--pool"):
        summarise([canonical, random3])
    notes: list[str] = []
    results, rows = summarise([canonical, random3], notes=notes, pool=True)
    assert len(results) == 4 and any(n.startswith("pooled on request: ") for n in notes)
    assert {r.n for r in rows} == {4}
