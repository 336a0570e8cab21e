"""Secrets never reach what duress writes: tables, CSV, Parquet, the HTML report, run.json, stored errors.

A provider that rejects a key often echoes it (``Incorrect API key provided: sk-…``), and that
message travels into sample errors and judge errors. :func:`redact` replaces, in any text:

- the value of every environment variable whose name says it holds a secret (``*_KEY``,
  ``*_TOKEN``, ``*_SECRET``, ``*_PASSWORD``, ``*_CREDENTIALS``), and the password part of
  any ``user:password@`` in a ``*_BASE_URL``;
- strings shaped like provider keys (``sk-…``, ``sk-ant-…``, ``AIza…``, ``hf_…``, ``xai-…``,
  ``gsk_…``), bearer tokens and ``api_key=…`` / ``"api_key": "…"`` pairs,

with ``[redacted]``. Values shorter than 8 characters are not treated as secrets (``MOCK_API_KEY=x``
would otherwise blank every letter x).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Callable, Mapping

REDACTED = "[redacted]"
MIN_SECRET = 8
_SECRET_NAME = re.compile(r"(?:_KEY|_TOKEN|_SECRET|_PASSWORD|_CREDENTIALS|^API_KEY)$", re.I)
_URL_PASSWORD = re.compile(r"//[^/\s:@]+:([^/\s@]+)@")
_SHAPES = re.compile(
    r"\b(?:sk-(?:ant-|proj-)?[A-Za-z0-9_\-]{12,}|AIza[0-9A-Za-z_\-]{20,}|hf_[A-Za-z0-9]{20,}|xai-[A-Za-z0-9]{20,}"
    r"|gsk_[A-Za-z0-9]{20,}|ghp_[A-Za-z0-9]{20,})"
    r"|(?<=Bearer )[A-Za-z0-9._\-]{12,}"
    r"|(?<=api_key=)[^\s&\"',]{8,}"
    r"|(?<=\"api_key\": \")[^\"]{8,}",
)


def secrets(environ: Mapping[str, str] | None = None) -> list[str]:
    """The secret values in ``environ`` (default: this process's environment), longest first."""
    env = os.environ if environ is None else environ
    found = set()
    for name, value in env.items():
        if _SECRET_NAME.search(name) and len(value) >= MIN_SECRET:
            found.add(value)
        if name.upper().endswith("_BASE_URL"):
            found |= {m.group(1) for m in _URL_PASSWORD.finditer(value) if len(m.group(1)) >= MIN_SECRET}
    return sorted(found, key=len, reverse=True)


def redact(text: str, environ: Mapping[str, str] | None = None) -> str:
    """``text`` with every secret replaced by ``[redacted]``."""
    if not text:
        return text
    for value in secrets(environ):
        if value in text:
            text = text.replace(value, REDACTED)
    return _SHAPES.sub(REDACTED, text)


def redact_all(value: Any, environ: Mapping[str, str] | None = None) -> Any:
    """Every string inside ``value`` (dicts, lists, tuples) redacted."""
    if isinstance(value, str):
        return redact(value, environ)
    if isinstance(value, dict):
        return {k: redact_all(v, environ) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(redact_all(v, environ) for v in value)
    return value


def redact_log_file(path: str | os.PathLike[str], environ: Mapping[str, str] | None = None) -> bool:
    """Redact an Inspect log in place (every member of an ``.eval`` zip, or a ``.json`` log).

    Inspect writes what a provider said into the log (a sample's error, a model event's error);
    duress rewrites the file when a secret is found, atomically (a temporary file, then a rename).
    Returns whether anything was replaced."""
    import zipfile

    p = Path(path)
    if p.suffix == ".json":
        text = p.read_text(encoding="utf-8")
        clean = redact(text, environ)
        if clean != text:
            _replace(p, lambda tmp: Path(tmp).write_text(clean, encoding="utf-8"))
        return clean != text
    with zipfile.ZipFile(p) as z:
        members = [(info, z.read(info)) for info in z.infolist()]
    out, changed = [], False
    for info, data in members:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            out.append((info, data))
            continue
        clean = redact(text, environ)
        changed |= clean != text
        out.append((info, clean.encode("utf-8")))

    def write(tmp: str) -> None:
        with zipfile.ZipFile(tmp, "w") as z:
            for info, data in out:
                z.writestr(info, data, compress_type=info.compress_type)

    if changed:
        _replace(p, write)
    return changed


def _replace(p: Path, write: Callable[[str], None]) -> None:
    """Replace ``p`` with what ``write`` puts in a temporary file beside it, by an atomic rename."""
    import tempfile

    fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=f".{p.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, p)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
