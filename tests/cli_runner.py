"""Run the duress command in-process (fast) with the same exit codes and streams as the real one."""

import os
import subprocess
import sys
from dataclasses import dataclass

from typer.testing import CliRunner


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


def duress(*args: str, cwd=None, columns: int = 160) -> Ran:
    """``duress ARGS`` in this process (cwd changes are undone), printing ``columns`` wide (the output
    is not a terminal, as in a pipe)."""
    from duress.cli import app, console, err_console

    old = os.getcwd()
    widths = [(c, c._width) for c in (console, err_console)]  # a width fixed when the CLI was imported, if any
    try:
        if cwd is not None:
            os.chdir(cwd)
        for c, _ in widths:
            c.width = columns
        result = CliRunner().invoke(app, [str(a) for a in args], env={"COLUMNS": str(columns)}, catch_exceptions=False)
    finally:
        os.chdir(old)
        for c, width in widths:
            c._width = width
    return Ran(result.exit_code, result.stdout, result.stderr)


def duress_process(*args: str, cwd=None, env=None) -> Ran:
    """``duress ARGS`` as a separate process (for what needs a real process); ``env`` adds variables."""
    out = subprocess.run([sys.executable, "-m", "duress.cli", *map(str, args)], capture_output=True, text=True,
                         timeout=300, cwd=cwd, env={**os.environ, "COLUMNS": "40", **(env or {})})
    return Ran(out.returncode, out.stdout, out.stderr)
