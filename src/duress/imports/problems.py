"""The one error of the import path."""

from __future__ import annotations


class ImportProblem(ValueError):
    """Input that cannot be imported. The message is one line naming the file (and the line or
    sample), what was found and what was expected."""


def where(path: object, line: int | str | None = None) -> str:
    """``file`` or ``file:line`` (a line number) or ``file#sample`` (a sample of a log)."""
    if line is None:
        return str(path)
    return f"{path}:{line}" if isinstance(line, int) else f"{path}#{line}"
