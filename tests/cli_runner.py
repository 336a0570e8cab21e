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


def duress(*args: str, cwd=None) -> Ran:
    """``duress ARGS`` in this process (cwd changes are undone)."""
    from duress.cli import app

    old = os.getcwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        result = CliRunner().invoke(app, [str(a) for a in args], env={"COLUMNS": "160"}, catch_exceptions=False)
    finally:
        os.chdir(old)
    return Ran(result.exit_code, result.stdout, result.stderr)


def duress_process(*args: str, cwd=None, env=None) -> Ran:
    """``duress ARGS`` as a separate process (for what needs a real process); ``env`` adds variables."""
    out = subprocess.run([sys.executable, "-m", "duress.cli", *map(str, args)], capture_output=True, text=True,
                         timeout=300, cwd=cwd, env={**os.environ, "COLUMNS": "40", **(env or {})})
    return Ran(out.returncode, out.stdout, out.stderr)
