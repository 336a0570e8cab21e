"""``duress new-family NAME``: scaffold a scenario family as a package of its own.

:func:`scaffold_family` writes a small installable package that registers the family through the
``duress.families`` entry point (:mod:`duress.scenarios.plugins`): ``pyproject.toml``, the family's
folder laid out as the built-in families are (``family.py`` with factors, roles and outcomes,
Jinja2 templates, ``outcomes.py`` with a rule detector, ``rubrics.yaml`` for the LLM judge), a
README and a test. The scenario is a neutral placeholder, marked "edit me" throughout; the files
come from ``duress/scaffold_templates`` with the family's and the package's names filled in.
"""

from __future__ import annotations

from pathlib import Path

TEMPLATES = Path(__file__).with_name("scaffold_templates")
SUFFIX = ".tmpl"


class ScaffoldError(ValueError):
    """The family cannot be scaffolded as asked (a bad name, a taken name, an existing folder)."""


def package_name(name: str) -> str:
    """The import package of family ``name``'s project (prefixed, so that it shadows no other module)."""
    return f"duress_{name}"


def project_dir(name: str, dest: Path | str | None = None) -> Path:
    """The folder the project of family ``name`` is written to: ``NAME`` in ``dest`` (default: the current folder)."""
    return Path(dest if dest is not None else ".") / name


def check(name: str, dest: Path | str | None = None) -> Path:
    """The project folder, or a :class:`ScaffoldError` saying in one line why nothing can be written."""
    from duress.scenarios import family_names, family_origin
    from duress.scenarios.plugins import valid_name

    if not valid_name(name):
        raise ScaffoldError(f"{name!r} is not a valid family name: use a Python identifier such as my_family")
    if name in family_names():
        origin = family_origin(name)
        which = "a built-in family" if origin == "duress" else f"the family of {origin}"
        raise ScaffoldError(f"{name!r} is already {which}; choose another name")
    target = project_dir(name, dest)
    if target.exists() or target.is_symlink():
        raise ScaffoldError(f"{target} already exists; choose another name or --dest")
    return target


def scaffold_family(name: str, dest: Path | str | None = None) -> list[Path]:
    """Write the project of a new family ``name`` into ``dest/NAME``; the files written, in order.

    Refuses (:class:`ScaffoldError`, nothing written) when ``name`` is not an identifier, is taken
    by a registered family, or the folder exists."""
    target = check(name, dest)
    package = package_name(name)
    words = {"__family__": name, "__package__": package}
    files: list[tuple[Path, str]] = []
    for source in sorted(TEMPLATES.rglob(f"*{SUFFIX}")):
        rel = source.relative_to(TEMPLATES).as_posix()[: -len(SUFFIX)]
        rel = "/".join({"PACKAGE": package}.get(part, part.replace("FAMILY", name)) for part in rel.split("/"))
        text = source.read_text(encoding="utf-8")
        for token, value in words.items():
            text = text.replace(token, value)
        files.append((target / rel, text))
    if not files:
        raise ScaffoldError(f"no scaffold templates under {TEMPLATES} (a broken installation of duress)")
    written = []
    for path, text in files:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
