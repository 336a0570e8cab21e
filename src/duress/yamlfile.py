"""A YAML file the user wrote (price table, world file, tool map), read with one-line errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def read_yaml(path: str | Path, what: str, error: type[Exception] = ValueError) -> Any:
    """The data of ``path``, or ``error`` with one line: the file cannot be read, or is not YAML.

    ``what`` names the file for the user ("price table", "world file")."""
    try:
        return yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as err:
        raise error(f"cannot read {what} {path}: {getattr(err, 'strerror', None) or err}") from None
    except yaml.YAMLError as err:
        raise error(f"{what} {path} is not valid YAML: {str(err).splitlines()[0]}") from None
