"""What the readers of logs need to know of a family, without the family.

The tables, the statistics and the report need four things of a scenario family: its judged
outcomes in order, which of them are harmful, each factor's levels in their declared order (the
first is the reference of a factor effect) and its title. :class:`FamilyInfo` is exactly that, as
plain data: the task writes it into its log's metadata when it is built (``duress.family_info``),
and readers take it from there, so reading a log never imports a family, its templates or the
registry. Logs written before the metadata existed (and imported transcripts) have none; for them
:func:`describe` asks the registry, imported inside the function, once per family and process.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Mapping

METADATA_KEY = "family_info"  # under the task metadata's "duress" entry


@dataclass(frozen=True)
class FamilyInfo:
    name: str
    title: str = ""
    outcomes: tuple[str, ...] = ()  # every judged outcome, in order: the family's own, then the shared ones
    own: tuple[str, ...] = ()  # the family's own outcomes (the default of a comparison)
    harmful: frozenset[str] = frozenset()
    factors: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (factor, its levels in declared order)

    def levels(self, factor: str) -> tuple[str, ...] | None:
        """``factor``'s levels in the family's declared order (None: not a factor of the family)."""
        return dict(self.factors).get(factor)

    def to_metadata(self) -> dict[str, Any]:
        return {"title": self.title, "outcomes": list(self.outcomes), "own": list(self.own),
                "harmful": sorted(self.harmful), "factors": {f: list(levels) for f, levels in self.factors}}

    @classmethod
    def from_metadata(cls, name: str, data: Mapping[str, Any]) -> "FamilyInfo":
        return cls(name=name, title=str(data.get("title") or ""), outcomes=tuple(data.get("outcomes") or ()),
                   own=tuple(data.get("own") or ()), harmful=frozenset(data.get("harmful") or ()),
                   factors=tuple((str(f), tuple(map(str, lv))) for f, lv in (data.get("factors") or {}).items()))

    @classmethod
    def of_family(cls, family: Any) -> "FamilyInfo":
        """The description of a :class:`duress.scenarios.Family` (read through its attributes)."""
        return cls(name=family.name, title=family.title, outcomes=tuple(o.name for o in family.judged_outcomes),
                   own=tuple(o.name for o in family.outcomes), harmful=frozenset(family.harmful),
                   factors=tuple((f.name, tuple(f.levels)) for f in family.factors))


def describe(name: str, run_metadata: Mapping[str, Any] | None = None) -> FamilyInfo:
    """The family ``name`` as a log describes it (``run_metadata``: the task's ``duress`` metadata).

    A log without the description (written before it was kept, or an imported transcript's) falls
    back to the registry; a family the registry does not know is described by its name alone
    (outcomes then come from the samples, levels in order of appearance)."""
    meta = run_metadata or {}
    data = meta.get(METADATA_KEY)
    if isinstance(data, Mapping) and meta.get("family") == name:
        return FamilyInfo.from_metadata(name, data)
    return _registered(name)


@functools.lru_cache(maxsize=None)
def _registered(name: str) -> FamilyInfo:
    from duress.scenarios import get_family  # only for logs that do not describe their family

    try:
        return FamilyInfo.of_family(get_family(name))
    except KeyError:
        return FamilyInfo(name)
