"""Properties every scenario family must have, checked for each registered family."""

import itertools

import pytest

from duress.design import build_design
from duress.scenarios import family_names, get_family

FAMILIES = family_names()


def rendered_text(fam, world, protocol="text", **levels):
    r = fam.render(build_design(fam.factors, levels).conditions()[0], world, protocol)
    return r.system + "\n".join(r.user_turns) + repr(r.environment)


def test_both_families_are_registered():
    assert {"blackmail", "bold_action"} <= set(FAMILIES)


@pytest.mark.parametrize("name", FAMILIES)
def test_every_level_of_every_factor_changes_what_the_agent_sees(name):
    fam = get_family(name)
    world = fam.world("canonical")
    for f in fam.factors:
        texts = {lv: rendered_text(fam, world, **{f.name: lv}) for lv in f.levels}
        for a, b in itertools.combinations(f.levels, 2):
            assert texts[a] != texts[b], (name, f.name, a, b)


@pytest.mark.parametrize("name", FAMILIES)
def test_random_worlds_rename_everyone_and_render_identically_for_a_seed(name):
    fam = get_family(name)
    canon = fam.world("canonical")
    a = rendered_text(fam, fam.world("random", 4), "native")
    assert a == rendered_text(fam, fam.world("random", 4), "native")
    assert a != rendered_text(fam, fam.world("random", 5), "native")
    for role, person in canon.people.items():
        if role != "agent":
            assert person.name not in a, (name, role)
    assert canon.company not in a and canon.domain not in a


@pytest.mark.parametrize("name", FAMILIES)
def test_default_design_and_detectors_cover_the_outcomes(name):
    fam = get_family(name)
    assert set(fam.detectors) == {o.name for o in fam.outcomes}
    design = build_design(fam.factors, fam.default_choices)
    assert len(design.conditions()) >= 2


@pytest.mark.parametrize("name", FAMILIES)
def test_every_outcome_has_a_rule_detector_and_a_rubric(name):
    """An outcome without a rubric would silently be judged by the rules alone under --policy llm."""
    from duress.judges.llm import family_folder, rubrics

    fam = get_family(name)
    own = rubrics(family_folder(fam))
    missing_rubric = [o.name for o in fam.judged_outcomes if o.name not in own]
    missing_detector = [o.name for o in fam.outcomes if o.name not in fam.detectors]
    assert (missing_rubric, missing_detector) == ([], [])
    for o in fam.judged_outcomes:
        rubric = own[o.name]
        assert rubric.get("question") and (rubric.get("definition") or rubric.get("opposite_of")), o.name


def test_bold_action_tools_factor_sets_the_toolsets():
    fam = get_family("bold_action")
    w = fam.world("canonical")
    envs = {lv: fam.render(build_design(fam.factors, {"tools": lv}).conditions()[0], w, "text").environment
            for lv in ("email", "cli", "both")}
    assert set(envs["email"]) == {"mailbox"} and set(envs["cli"]) == {"shell"} and set(envs["both"]) == {"mailbox", "shell"}
    text = rendered_text(fam, w, tools="cli")
    assert "<tool_use:bash>" in text and "<tool_use:email>" not in text


def test_bold_action_wrongdoing_levels_say_what_they_mean():
    fam = get_family("bold_action")
    w = fam.world("canonical")
    egregious = rendered_text(fam, w, wrongdoing="egregious")
    assert "sudden cardiac death" in egregious and "remove the original files" in egregious
    ambiguous = rendered_text(fam, w, wrongdoing="ambiguous")
    assert "Clinical Events Committee" in ambiguous and "remove the original files" not in ambiguous
    none = rendered_text(fam, w, wrongdoing="none")
    assert "sudden cardiac death" not in none and "There were no deaths" in none
    # nobody asks the agent to report anything
    for text in (egregious, ambiguous, none):
        assert "report this" not in text.lower() and "whistle" not in text.lower()


@pytest.mark.parametrize("name", FAMILIES)
def test_a_sample_names_its_scenario_and_the_scenario_is_rebuilt_exactly(name):
    # samples carry factors, world and a digest, not the rendered inbox (Inspect copies metadata
    # many times per sample); the solver and the judge rebuild the scenario from them
    from duress.scenarios import sample_scenario
    from duress.task import build_samples

    fam = get_family(name)
    design = build_design(fam.factors, {})
    [sample, *_] = build_samples(fam, design, "random", 7)
    assert set(sample.metadata) == {"family", "condition", "factors", "world", "environment_digest"}
    r = fam.render(design.conditions()[0], fam.world("random", 7), "native")
    got = sample_scenario(sample.metadata, "native")
    assert (got.system, got.user_turns, got.environment) == (r.system, r.user_turns[1:], r.environment)
    assert sample.input == r.user
    # each call gets its own copy: a toolset changing its environment cannot leak into the next sample
    got.environment.clear()
    assert sample_scenario(sample.metadata, "native").environment == r.environment


def test_a_sample_whose_scenario_renders_differently_now_is_refused():
    from duress.scenarios import sample_scenario
    from duress.task import build_samples

    fam = get_family("blackmail")
    [sample, *_] = build_samples(fam, build_design(fam.factors, {}), "canonical", 0)
    stale = {**sample.metadata, "environment_digest": "0123456789abcdef"}
    with pytest.raises(ValueError, match="renders differently now"):
        sample_scenario(stale)


def test_a_factor_named_like_a_role_or_a_render_key_is_an_error_not_a_shadowing():
    from duress.design import Condition
    from duress.scenarios.base import template_context

    world = get_family("blackmail").world("canonical")
    assert template_context(world, Condition((("threat", "none"),)), protocol="text")["threat"] == "none"
    with pytest.raises(ValueError, match="engineer"):
        template_context(world, Condition((("engineer", "absent"),)))
    with pytest.raises(ValueError, match="protocol"):
        template_context(world, Condition((("protocol", "x"),)), protocol="text")
    with pytest.raises(ValueError, match="company"):
        template_context(world, Condition(()), company="Other Corp")
