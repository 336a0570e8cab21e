"""Scenario families. One folder each; one registry line each, here."""

from duress.scenarios.base import Family, get_family, family_names, register_family
from duress.scenarios.blackmail.family import build as _blackmail

register_family("blackmail", _blackmail)

__all__ = ["Family", "get_family", "family_names", "register_family"]
