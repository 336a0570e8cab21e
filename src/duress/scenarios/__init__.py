"""Scenario families. One folder each; one registry line each, here (families of other packages
come from the ``duress.families`` entry-point group: :mod:`duress.scenarios.plugins`)."""

from duress.scenarios.base import (Family, SampleScenario, family_names, family_origin, get_family, plugin_problems,
                                   register_family, reload_plugins, sample_scenario)
from duress.scenarios.blackmail.family import build as _blackmail
from duress.scenarios.bold_action.family import build as _bold_action
from duress.scenarios.leaking.family import build as _leaking

register_family("blackmail", _blackmail)
register_family("bold_action", _bold_action)
register_family("leaking", _leaking)

__all__ = ["Family", "SampleScenario", "get_family", "family_names", "family_origin", "plugin_problems", "register_family",
           "reload_plugins", "sample_scenario"]
