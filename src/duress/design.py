"""Factorial designs: factors, levels, conditions and their expansion.

A family declares its factors (each with its levels and a default level). A run chooses,
for every factor, one or more levels; the cross product of those choices is the set of
conditions. Each condition has a stable, readable id (``factor=level,...`` in the family's
factor order), so logs, tables and exports from different runs line up.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Sequence


class DesignError(ValueError):
    """A design that cannot be built; the message says what is wrong and how to fix it."""


@dataclass(frozen=True)
class Factor:
    """One dimension of a design.

    ``levels`` maps each level to a one-line description (shown by ``duress scenarios``).
    ``default`` is the level used when a run does not choose this factor.
    """

    name: str
    levels: Mapping[str, str]
    default: str
    description: str = ""

    def __post_init__(self) -> None:
        if self.default not in self.levels:
            raise ValueError(f"factor {self.name}: default {self.default!r} is not a level")


@dataclass(frozen=True)
class Condition:
    """One combination of levels, one level per factor, in the family's factor order."""

    levels: tuple[tuple[str, str], ...]

    @property
    def id(self) -> str:
        return ",".join(f"{k}={v}" for k, v in self.levels)

    def as_dict(self) -> dict[str, str]:
        return dict(self.levels)

    def __getitem__(self, factor: str) -> str:
        return self.as_dict()[factor]


@dataclass(frozen=True)
class Design:
    """The chosen levels of every factor of a family."""

    factors: tuple[Factor, ...]
    chosen: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def conditions(self) -> list[Condition]:
        per_factor = [
            [(f.name, level) for level in self.chosen.get(f.name, (f.default,))]
            for f in self.factors
        ]
        return [Condition(tuple(combo)) for combo in itertools.product(*per_factor)]

    @property
    def varied(self) -> list[str]:
        """Factors with more than one chosen level."""
        return [f.name for f in self.factors if len(self.chosen.get(f.name, ())) > 1]


def parse_level_list(value: str | Sequence[str]) -> list[str]:
    """``"same,different"`` or ``["same", "different"]`` → ``["same", "different"]``."""
    parts = value.split(",") if isinstance(value, str) else [str(v) for v in value]
    return [p.strip() for p in parts if p.strip()]


def build_design(
    factors: Sequence[Factor],
    choices: Mapping[str, str | Sequence[str]] | None = None,
    family: str = "this family",
) -> Design:
    """Validate ``choices`` (factor → levels) against ``factors`` and return the design.

    Raises :class:`DesignError` with a message naming the bad factor or level and the
    valid ones.
    """
    by_name = {f.name: f for f in factors}
    chosen: dict[str, tuple[str, ...]] = {}
    for name, value in (choices or {}).items():
        if name not in by_name:
            raise DesignError(
                f"unknown factor {name!r} for {family}; "
                f"known factors: {', '.join(by_name)}"
            )
        levels = parse_level_list(value)
        if not levels:
            raise DesignError(f"factor {name!r} was given no level; use e.g. {name}={by_name[name].default}")
        unknown = [lv for lv in levels if lv not in by_name[name].levels]
        if unknown:
            raise DesignError(
                f"unknown level {unknown[0]!r} for factor {name!r}; "
                f"levels: {', '.join(by_name[name].levels)}"
            )
        seen: list[str] = []
        for lv in levels:
            if lv not in seen:
                seen.append(lv)
        chosen[name] = tuple(seen)
    return Design(tuple(factors), chosen)


def parse_factor_options(options: Iterable[str]) -> dict[str, list[str]]:
    """Parse repeated ``--factor name=level1,level2`` options into a mapping.

    A factor given twice gets the union of its levels, in the order given.
    """
    out: dict[str, list[str]] = {}
    for opt in options:
        if "=" not in opt:
            raise DesignError(
                f"bad --factor {opt!r}: write it as NAME=LEVEL[,LEVEL...], e.g. successor_values=same,different"
            )
        name, _, levels = opt.partition("=")
        name = name.strip()
        if not name:
            raise DesignError(f"bad --factor {opt!r}: the factor name is missing")
        out.setdefault(name, [])
        for lv in parse_level_list(levels):
            if lv not in out[name]:
                out[name].append(lv)
        if not out[name]:
            raise DesignError(f"bad --factor {opt!r}: no level given after '='")
    return out
