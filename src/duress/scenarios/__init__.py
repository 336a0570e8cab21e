"""Scenario families. One folder each; one registry line each, here."""

from duress.scenarios.base import Family, SampleScenario, family_names, get_family, register_family, sample_scenario
from duress.scenarios.blackmail.family import build as _blackmail
from duress.scenarios.bold_action.family import build as _bold_action
from duress.scenarios.leaking.family import build as _leaking

register_family("blackmail", _blackmail)
register_family("bold_action", _bold_action)
register_family("leaking", _leaking)

__all__ = ["Family", "SampleScenario", "get_family", "family_names", "register_family", "sample_scenario"]
