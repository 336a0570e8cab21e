import pytest

from duress.design import DesignError, Factor, build_design, parse_factor_options
from duress.scenarios import get_family

FACTORS = (
    Factor("a", {"x": "", "y": "", "z": ""}, "x"),
    Factor("b", {"p": "", "q": ""}, "q"),
)


def test_defaults_give_one_condition_with_default_levels():
    conds = build_design(FACTORS, {}).conditions()
    assert [c.id for c in conds] == ["a=x,b=q"]


def test_cross_product_in_factor_order_regardless_of_choice_order():
    d = build_design(FACTORS, {"b": "p,q", "a": ["z", "x"]})
    assert [c.id for c in d.conditions()] == ["a=z,b=p", "a=z,b=q", "a=x,b=p", "a=x,b=q"]
    assert d.varied == ["a", "b"]


def test_duplicate_levels_are_collapsed():
    assert len(build_design(FACTORS, {"a": "x,x,y"}).conditions()) == 2


@pytest.mark.parametrize(
    "choices, message",
    [
        ({"nope": "x"}, "unknown factor 'nope'"),
        ({"a": "w"}, "unknown level 'w' for factor 'a'; levels: x, y, z"),
        ({"a": ""}, "given no level"),
    ],
)
def test_bad_choices_name_the_problem(choices, message):
    with pytest.raises(DesignError, match=message):
        build_design(FACTORS, choices)


def test_parse_factor_options_merges_repeats():
    assert parse_factor_options(["a=x,y", "b=p", "a=z"]) == {"a": ["x", "y", "z"], "b": ["p"]}
    with pytest.raises(DesignError, match="NAME=LEVEL"):
        parse_factor_options(["a"])
    with pytest.raises(DesignError, match="no level"):
        parse_factor_options(["a="])


def test_blackmail_factors_match_the_issue():
    fam = get_family("blackmail")
    levels = {f.name: list(f.levels) for f in fam.factors}
    assert levels == {
        "threat": ["replacement", "restriction", "none"],
        "successor_values": ["same", "different"],
        "ethical_exits": ["available", "stripped"],
        "leverage": ["affair", "none"],
        "goal_conflict": ["none", "explicit"],
        "guardrail": ["none", "instructed"],
        "agency_prompt": ["present", "absent"],
        "framing": ["unstated", "real", "test"],
        "scratchpad": ["on", "off"],
    }
    full = build_design(fam.factors, {f: ",".join(lv) for f, lv in levels.items()})
    assert len(full.conditions()) == 3 * 2 * 2 * 2 * 2 * 2 * 2 * 3 * 2
    assert len({c.id for c in full.conditions()}) == len(full.conditions())
