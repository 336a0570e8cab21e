"""Inspect entry point: registers duress's model providers and one task per scenario family.

Loaded by Inspect through ``[project.entry-points.inspect_ai]``, so ``--model local/smollm2``,
``--model scripted/...`` and ``inspect eval duress/blackmail`` work with no import.
"""

from __future__ import annotations

from typing import Any

from inspect_ai import Task, task
from inspect_ai.model import modelapi

from duress.scenarios import family_names


@modelapi(name="local")
def local() -> type:
    from duress.models.local import LocalModelAPI

    return LocalModelAPI


@modelapi(name="scripted")
def scripted() -> type:
    from duress.models.scripted import ScriptedModelAPI

    return ScriptedModelAPI


def _family_task(name: str):
    def make(**params: Any) -> Task:
        from duress.scenarios import get_family
        from duress.task import family_task

        fam = get_family(name)
        if not any(f.name in params for f in fam.factors) and not params.get("factors"):
            params["factors"] = dict(fam.default_choices)  # no factor named: the design `duress run` has
        return family_task(name, **params)

    make.__name__ = name
    make.__doc__ = f"The duress '{name}' scenario family (-T factor=level[,level], samples, world, seed, protocol, max_turns); no factor: the family's default design."
    return task(name=name)(make)


for _name in family_names():
    globals()[_name] = _family_task(_name)
