"""Scenario families from other packages: the ``duress.families`` entry-point group.

A researcher's own package registers a family in its ``pyproject.toml``::

    [project.entry-points."duress.families"]
    harbour = "duress_harbour.family:build"

The entry point's name is the family's name; its value is a callable returning a
:class:`duress.scenarios.base.Family` (the same ``build`` the built-in families register), or a
module that has one named ``build``. Once the package is installed the family is listed by
``duress scenarios`` and runs with ``duress run -s harbour`` and ``inspect eval duress/harbour``,
like a built-in one. ``duress new-family NAME`` scaffolds such a package.

A plugin that cannot be used (it does not import, is not a builder, builds something else, or takes
a built-in family's name) never breaks the other families: it is left out, listing the families
logs one line naming the entry point and the problem, and asking for that family is an error
carrying the same line.
"""

from __future__ import annotations

import importlib.metadata
import keyword
import types
from dataclasses import dataclass
from typing import Any, Callable, Collection

GROUP = "duress.families"


def entry_points() -> list[importlib.metadata.EntryPoint]:
    """The installed entry points of the group (the one place they are discovered; tests replace it)."""
    return list(importlib.metadata.entry_points(group=GROUP))


def valid_name(name: str) -> bool:
    """Whether ``name`` can be a family's name: a Python identifier (it names a task, a folder, a package)."""
    return name.isascii() and name.isidentifier() and not keyword.iskeyword(name)


@dataclass(frozen=True)
class Plugin:
    """One entry point of the group: the family it builds, or why it cannot be used."""

    name: str
    label: str  # "entry point 'harbour = duress_harbour.family:build' (duress-harbour 0.1.0)"
    build: Callable[[], Any] | None = None
    problem: str = ""

    @property
    def line(self) -> str:
        """The one line that says what is wrong, naming the entry point."""
        return f"{GROUP} {self.label} skipped: {self.problem}"


def _label(ep: importlib.metadata.EntryPoint) -> str:
    dist = getattr(ep, "dist", None)
    meta = getattr(dist, "metadata", None)
    name = meta["Name"] if meta is not None and meta["Name"] else ""
    where = f" ({name} {dist.version})" if name else ""  # type: ignore[union-attr]
    return f"entry point '{ep.name} = {ep.value}'{where}"


def _error(err: BaseException) -> str:
    text = " ".join(str(err).split())
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def load(ep: importlib.metadata.EntryPoint, taken: Collection[str]) -> Plugin:
    """Load and check one entry point; ``taken`` are the names of the families already registered."""
    from duress.scenarios.base import Family

    label = _label(ep)

    def broken(problem: str) -> Plugin:
        return Plugin(ep.name, label, problem=problem)

    if not valid_name(ep.name):
        return broken(f"{ep.name!r} is not a valid family name (it must be a Python identifier)")
    if ep.name in taken:
        return broken(f"its name clashes with the built-in family {ep.name!r}; rename the entry point and the family")
    try:
        target = ep.load()
    except Exception as err:  # noqa: BLE001 — whatever the plugin raises, the built-in families go on
        return broken(f"cannot be imported ({_error(err)})")
    if isinstance(target, types.ModuleType):
        if not callable(getattr(target, "build", None)):
            return broken(f"module {target.__name__} has no build() function")
        target = target.build
    if not callable(target):
        return broken(f"{ep.value} is a {type(target).__name__}, not a function returning a Family or a module with build()")
    try:
        family = target()
    except Exception as err:  # noqa: BLE001
        return broken(f"building the family failed ({_error(err)})")
    if not isinstance(family, Family):
        return broken(f"{ep.value} returned a {type(family).__name__}, not a duress.scenarios.base.Family")
    if family.name != ep.name:
        return broken(f"it builds the family {family.name!r}; the entry point must be named after its family")
    return Plugin(ep.name, label, build=target)


def discover(taken: Collection[str]) -> list[Plugin]:
    """Every entry point of the group, loaded and checked, in name order (a second one of a name is refused)."""
    out: list[Plugin] = []
    seen: set[str] = set()
    try:
        found = entry_points()
    except Exception as err:  # noqa: BLE001 — broken package metadata must not break the built-in families
        return [Plugin("", "entry points", problem=f"cannot be listed ({_error(err)})")]
    for ep in sorted(found, key=lambda e: (e.name, e.value)):
        if ep.name in seen:
            out.append(Plugin(ep.name, _label(ep), problem=f"another {GROUP} entry point already registers {ep.name!r}"))
            continue
        plugin = load(ep, taken)
        out.append(plugin)
        if plugin.build is not None:
            seen.add(ep.name)
    return out
