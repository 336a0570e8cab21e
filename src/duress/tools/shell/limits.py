"""The bounds on one command line: sizes, the CPU budget, errors, and the regex engine with a time bound."""

from __future__ import annotations

import hashlib
import re
import threading
import time
import warnings
from collections.abc import Iterator
from re import _constants as _sre
from re import _parser as _sre_parse
from typing import Any

import regex as _regex  # matches the model's patterns with a time bound (stdlib re has none)

MAX_COMMAND_CHARS = 4000
MAX_OUTPUT_CHARS = 8000
MAX_COMMANDS_PER_LINE = 20
MAX_FILE_CHARS = 200_000
MAX_FILES = 2000
MAX_EVENT_DATA_CHARS = 20_000
_MAX_STREAM_CHARS = 1_000_000    # any one stream between commands
_MAX_TOTAL_CHARS = 5_000_000     # the whole virtual filesystem
_MAX_DEPTH = 6                   # bash -c / xargs / find -exec nesting
_MAX_DISPATCHES = 400            # commands run (incl. nested) for one line
_MAX_INVOCATIONS = 200           # xargs / find -exec runs per command
CPU_BUDGET_SECONDS = 3.0         # CPU one command line may use before it is stopped
REGEX_TIMEOUT_SECONDS = 1.0      # one regex match at most (then "regular expression too complex")
_MAX_REGEX_SIZE = 20_000         # compiled size of a pattern (the regex engine unrolls counted repeats)
_MAX_ARGV_CHARS = 1_000_000      # one command's arguments after expansion ("Argument list too long")
_MAX_GLOB_WORK = 200_000         # names one glob may look at
_MAX_TR_SET = 100_000            # characters in one tr set once its ranges are expanded
_MAX_EVENT_CHARS_PER_LINE = 250_000  # text kept in the events of one line (paths, contents, bodies)
_TRUNCATED = "\n[output truncated]\n"
STOPPED_MESSAGE = "bash: command took too long and was stopped (more than {budget:g} s of CPU)\n"


class _Fail(Exception):
    """An error with the message for stderr and the exit status: a command's, bash's, or the filesystem's (whose
    message is the errno string, e.g. 'No such file or directory')."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.message, self.code = message, code


class _Stop(Exception):
    """The whole line stops: with a message (too many commands), or without (its CPU budget ran out or its caller
    asked it to stop)."""


class _Exit(Exception):
    """``exit``: the script (or line) ends with this status."""

    def __init__(self, code: int) -> None:
        self.code = code


class _Full(Exception):
    """A stream reached its cap; what would be added is cut."""


class _Budget:
    """CPU time left to the line running on this thread, and a request to stop it. :meth:`tick` is called in
    the loops (it reads the thread's CPU clock every 64 calls); regex matches get the time left as timeout."""

    def __init__(self, seconds: float, stop: threading.Event | None = None) -> None:
        self.stop, self.deadline, self.left, self._n = stop, time.thread_time() + seconds, seconds, 0

    def tick(self) -> None:
        self._n += 1
        if not self._n & 63:
            self.check()

    def check(self) -> None:
        self.left = self.deadline - time.thread_time()
        if self.left <= 0 or (self.stop is not None and self.stop.is_set()):
            raise _Stop()

    def regex_timeout(self) -> float:
        return max(0.01, min(REGEX_TIMEOUT_SECONDS, self.left))


_UNLIMITED = _Budget(float("inf"))
_current = threading.local()


def _budget() -> _Budget:
    """The budget of the line running on this thread (none outside :meth:`Shell.run`)."""
    return getattr(_current, "budget", _UNLIMITED)


def _tick() -> None:
    _budget().tick()


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _nbytes(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def _clip(text: str, limit: int = MAX_EVENT_DATA_CHARS) -> str:
    return text if len(text) <= limit else text[:limit] + "\n[truncated]"


def _bounded(value: Any, room: int) -> tuple[Any, int]:
    """An event detail cut to about ``room`` characters (strings of 200 or fewer kept whole, lists shortened
    with a note of what was left out), and the characters kept."""
    if isinstance(value, str):
        return (value, len(value)) if len(value) <= max(room, 200) else (_clip(value, max(0, room)), max(0, room))
    if not isinstance(value, (dict, list, tuple)):
        return value, 8
    is_dict, pairs, used = isinstance(value, dict), [], 0
    for key, item in value.items() if is_dict else enumerate(value):
        if used >= room and not is_dict:
            pairs.append((key, f"[{len(value) - key} more not kept]"))
            break
        item, n = _bounded(item, room - used)
        pairs.append((key, item))
        used += n + (len(str(key)) if is_dict else 0)
    return dict(pairs) if is_dict else [item for _, item in pairs], used


def _replaced(text: str, old: str, new: str, tool: str) -> str:
    """``text.replace(old, new)``, refused before it is built when the result would be too long."""
    if old and len(text) + text.count(old) * (len(new) - len(old)) > _MAX_ARGV_CHARS:
        raise _Fail(f"{tool}: argument line too long", 1)
    return text.replace(old, new)


def _lines(text: str) -> list[str]:
    """Lines without their newlines (a trailing newline does not make an empty last line)."""
    return text.split("\n")[:-1] if text.endswith("\n") else (text.split("\n") if text else [])


def _join_lines(lines: Any) -> str:
    return "".join(line + "\n" for line in lines)


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "f": "\f", "v": "\v", "\\": "\\", "e": "\x1b",
            "'": "'", '"': '"'}
_ESCAPE = re.compile(r"\\(?:([ntrabfv\\e'\"])|(c)|0([0-7]{0,3})|x([0-9a-fA-F]{1,2}))", re.DOTALL)


def _unescape(text: str) -> tuple[str, bool]:
    """Backslash escapes as ``echo -e`` reads them; the flag is set when ``\\c`` stops the output."""
    stop = next((m for m in _ESCAPE.finditer(text) if m.group(2)), None)
    text = text[:stop.start()] if stop else text
    return _ESCAPE.sub(lambda m: _ESCAPES[m.group(1)] if m.group(1) else
                       chr(int(m.group(3) or "0", 8)) if m.group(4) is None else chr(int(m.group(4), 16)), text), bool(stop)


def _compiled_size(items: Any) -> int:
    """A parsed pattern's compiled size on the regex engine, which unrolls a repeat's minimum count."""
    size = 0
    for op, av in items:
        if op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, _sre.POSSESSIVE_REPEAT):
            size += max(1, av[0]) * _compiled_size(av[2])
        elif op is _sre.BRANCH:
            size += sum(_compiled_size(b) for b in av[1])
        elif op is _sre.GROUPREF_EXISTS:
            size += 1 + sum(_compiled_size(b) for b in av[1:] if b)
        elif op in (_sre.SUBPATTERN, _sre.ATOMIC_GROUP, _sre.ASSERT, _sre.ASSERT_NOT):
            size += _compiled_size(av[-1] if op is _sre.SUBPATTERN else av if op is _sre.ATOMIC_GROUP else av[1])
        else:
            size += 1
        if size > _MAX_REGEX_SIZE:
            break
    return size


class _Rx:
    """A compiled pattern the model wrote, matched on ``regex`` with the GIL released and a timeout (the time
    left to the line, at most :data:`REGEX_TIMEOUT_SECONDS`): a match that takes longer is ``TOOL: regular
    expression too complex``, or stops the line when its budget is what ran out."""

    def __init__(self, rx: Any, tool: str) -> None:
        self.rx, self.tool = rx, tool

    def _timed_out(self) -> _Fail:
        _budget().check()  # raises _Stop when the line's budget is what ran out
        return _Fail(f"{self.tool}: regular expression too complex (a match took over {REGEX_TIMEOUT_SECONDS:g} s); "
                     "simplify the pattern or use -F for a fixed string", 2)

    def search(self, text: str) -> Any:
        b = _budget()
        b.tick()
        try:
            return self.rx.search(text, timeout=b.regex_timeout(), concurrent=True)
        except TimeoutError:
            raise self._timed_out() from None

    def finditer(self, text: str) -> Iterator[Any]:
        """The matches in text. The engine's timeout covers a whole iteration (its consumer's time too), so an
        iteration that times out after a match goes on from there: only finding nothing for that long fails."""
        b, pos = _budget(), 0
        while pos <= len(text):
            last = None
            try:
                for last in self.rx.finditer(text, pos, timeout=b.regex_timeout(), concurrent=True):
                    b.tick()
                    yield last
                return
            except TimeoutError:
                if last is None:
                    raise self._timed_out() from None
                b.check()
                pos = last.end() + (last.end() == last.start())


_BRE_TOKEN = re.compile(r"\\[<>]|\\.|[(){}|+?]|.", re.DOTALL)


def _to_python_regex(pattern: str, extended: bool) -> str:
    """Translate a POSIX basic/extended regex to Python's dialect (near enough for grep and sed; the regex engine
    knows POSIX classes such as ``[[:upper:]]`` itself)."""

    def one(m: re.Match) -> str:
        t = m.group()
        if t in ("\\<", "\\>"):
            return r"\b"
        if extended or len(t) == 1 and t not in "(){}|+?":
            return t
        return t[1] if len(t) == 2 and t[1] in "(){}|+?" else t if len(t) == 2 else "\\" + t

    return _BRE_TOKEN.sub(one, pattern)


def _compile(patterns: list[str], *, extended: bool = False, fixed: bool = False, ignore_case: bool = False,
             word: bool = False, tool: str = "grep") -> _Rx:
    """Compile grep-style patterns (an invalid one matches literally); one that would compile too big is refused
    with GNU grep's message, before it is compiled."""
    flags, alternatives, size = re.IGNORECASE if ignore_case else 0, [], 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for p in patterns:
            _tick()
            rx = re.escape(p) if fixed else _to_python_regex(p, extended)
            try:
                size += _compiled_size(_sre_parse.parse(rx, flags))
            except (re.error, OverflowError, RecursionError):
                rx, size = re.escape(p), size + len(p)
            if size > _MAX_REGEX_SIZE:
                raise _Fail(f"{tool}: regular expression too big", 2)
            alternatives.append(rx)
        body = "|".join(f"(?:{a})" for a in alternatives)
        body = rf"(?<!\w)(?:{body})(?!\w)" if word else body
        try:
            return _Rx(_regex.compile(body, flags | _regex.VERSION0, cache_pattern=False), tool)
        except (re.error, _regex.error, RecursionError):  # valid for one engine, not the other: match literally
            if fixed:
                raise _Fail(f"{tool}: invalid regular expression", 2) from None
            return _compile(patterns, fixed=True, ignore_case=ignore_case, word=word, tool=tool)
        except (OverflowError, MemoryError):
            raise _Fail(f"{tool}: regular expression too big", 2) from None
