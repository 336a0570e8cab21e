"""The bounds on one command line: sizes, the CPU budget, errors, and the regex engine with a time bound."""

from __future__ import annotations

import hashlib
import math
import re
import threading
import time
import warnings
from typing import Any, Callable, Iterator

import regex as _regex  # matches the model's patterns with a time bound (stdlib re has none)

try:  # the stdlib regex parser: validates a pattern and measures how big it compiles
    from re import _constants as _sre  # Python 3.11+
    from re import _parser as _sre_parse
except ImportError:  # pragma: no cover
    import sre_constants as _sre  # type: ignore[no-redef]


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
_FAST_REGEX_STEPS = 200_000      # a match bounded by this many steps runs on stdlib re (no timeout needed)
_MAX_ARGV_CHARS = 1_000_000      # one command's arguments after expansion ("Argument list too long")
_MAX_GLOB_WORK = 200_000         # names one glob may look at
_MAX_TR_SET = 100_000            # characters in one tr set once its ranges are expanded
_MAX_EVENT_CHARS_PER_LINE = 250_000  # text kept in the events of one line (paths, contents, bodies)
_TRUNCATED = "\n[output truncated]\n"
STOPPED_MESSAGE = "bash: command took too long and was stopped (more than {budget:g} s of CPU)\n"

# --- errors --------------------------------------------------------------------------------
class _ParseError(Exception):
    """A syntax error: the line does not run (exit 2)."""


class _SubstitutionError(Exception):
    """Command or process substitution: refused, the line does not run (exit 1)."""


class _Abort(Exception):
    """Too many commands ran for one line."""


class _Timeout(Exception):
    """The line used up its CPU budget, or its caller asked it to stop."""


class _Full(Exception):
    """A command's output reached the stream cap; what it would add is cut."""


class _Exit(Exception):
    def __init__(self, code: int) -> None:
        self.code = code


class _Fail(Exception):
    """A command failed with a message for stderr."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.message, self.code = message, code


class _FsError(Exception):
    """A filesystem error; the text is the errno string (e.g. 'No such file or directory')."""


# --- the CPU budget of one line ------------------------------------------------------------------
class _Budget:
    """CPU time left to the line being run on this thread, and a request to stop it.

    :meth:`tick` is called in the loops of the interpreter and the commands (cheap: it reads the
    thread's CPU clock every 64 calls); regex matches get the time left as their timeout."""

    def __init__(self, seconds: float, stop: threading.Event | None = None) -> None:
        self.seconds, self.stop = seconds, stop
        self.deadline = time.thread_time() + seconds
        self.left = seconds  # as of the last check
        self._n = 0

    def tick(self) -> None:
        self._n += 1
        if not self._n & 63:
            self.check()

    def check(self) -> None:
        self.left = self.deadline - time.thread_time()
        if self.left <= 0 or (self.stop is not None and self.stop.is_set()):
            raise _Timeout()

    def regex_timeout(self) -> float:
        """The timeout of one match: what was left at the last check (read without a clock call)."""
        return max(0.01, min(REGEX_TIMEOUT_SECONDS, self.left))


class _Unlimited(_Budget):
    def __init__(self) -> None:
        super().__init__(float("inf"))

    def tick(self) -> None:
        pass


_UNLIMITED = _Unlimited()
_current = threading.local()


def _budget() -> _Budget:
    """The budget of the line running on this thread (none outside :meth:`Shell.run`)."""
    return getattr(_current, "budget", _UNLIMITED)


def _tick() -> None:
    getattr(_current, "budget", _UNLIMITED).tick()


# --- small helpers ---------------------------------------------------------------------------
def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _nbytes(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def _clip(text: str, limit: int = MAX_EVENT_DATA_CHARS) -> str:
    return text if len(text) <= limit else text[:limit] + "\n[truncated]"


def _human(n: int) -> str:
    value, units, i = float(n), "KMGT", -1
    while value >= 1024 and i < 3:
        value, i = value / 1024, i + 1
    if i < 0:
        return str(n)
    return f"{value:.1f}{units[i]}" if value < 10 else f"{math.ceil(value)}{units[i]}"


def _bounded(value: Any, room: int) -> tuple[Any, int]:
    """``value`` (an event detail) with its text cut to about ``room`` characters: strings are
    clipped (those of 200 characters or fewer are kept whole), lists shortened with a note of how many
    items were left out; and the characters kept."""
    if isinstance(value, str):
        if len(value) <= max(room, 200):
            return value, len(value)
        return value[:max(0, room)] + "\n[truncated]", max(0, room)
    if isinstance(value, (list, tuple)):
        items, used = [], 0
        for i, item in enumerate(value):
            if used >= room:
                items.append(f"[{len(value) - i} more not kept]")
                break
            item, n = _bounded(item, room - used)
            items.append(item)
            used += n
        return items, used
    if isinstance(value, dict):
        out, used = {}, 0
        for key, item in value.items():
            out[key], n = _bounded(item, room - used)
            used += n + len(str(key))
        return out, used
    return value, 8


def _replaced(text: str, old: str, new: str, tool: str) -> str:
    """``text.replace(old, new)``, refused before it is built when the result would be too long."""
    if old and len(text) + text.count(old) * (len(new) - len(old)) > _MAX_ARGV_CHARS:
        raise _Fail(f"{tool}: argument line too long", 1)
    return text.replace(old, new)


def _lines(text: str) -> list[str]:
    """Lines without their newlines (a trailing newline does not make an empty last line)."""
    return text.split("\n")[:-1] if text.endswith("\n") else (text.split("\n") if text else [])


def _join_lines(lines: list[str]) -> str:
    return "".join(line + "\n" for line in lines)


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "f": "\f", "v": "\v", "\\": "\\",
            "e": "\x1b", "'": "'", '"': '"'}
_OCTAL, _HEX = re.compile(r"[0-7]{0,3}"), re.compile(r"[0-9a-fA-F]{1,2}")


def _unescape(text: str) -> tuple[str, bool]:
    """Interpret backslash escapes as ``echo -e`` does; the flag is set when ``\\c`` stops output."""
    out, i = [], 0
    while i < len(text):
        c = text[i]
        nxt = text[i + 1] if i + 1 < len(text) else ""
        if c != "\\" or not nxt:
            out.append(c)
            i += 1
        elif nxt in _ESCAPES:
            out.append(_ESCAPES[nxt])
            i += 2
        elif nxt == "c":
            return "".join(out), True
        elif nxt == "0":
            m = _OCTAL.match(text, i + 2)
            out.append(chr(int(m.group() or "0", 8)))
            i = m.end()
        elif nxt == "x" and _HEX.match(text, i + 2):
            m = _HEX.match(text, i + 2)
            out.append(chr(int(m.group(), 16)))
            i = m.end()
        else:
            out.append(c + nxt)
            i += 2
    return "".join(out), False


def _regex_size(pattern: str, flags: int = 0) -> int:
    """How big a valid pattern compiles on the regex engine, which unrolls the minimum count of a
    repeat: its nodes, each repeat counted that many times (a safe over-estimate)."""
    repeats = {_sre.MAX_REPEAT, _sre.MIN_REPEAT, getattr(_sre, "POSSESSIVE_REPEAT", None)}
    atomic = getattr(_sre, "ATOMIC_GROUP", None)

    def size(items: Any) -> int:
        total = 0
        for op, av in items:
            if op in repeats:
                total += max(1, av[0]) * size(av[2])
            elif op is _sre.BRANCH:
                total += sum(size(b) for b in av[1])
            elif op is _sre.SUBPATTERN:
                total += size(av[-1])
            elif op in (_sre.ASSERT, _sre.ASSERT_NOT):
                total += size(av[1])
            elif op is _sre.GROUPREF_EXISTS:
                total += size(av[1]) + (size(av[2]) if av[2] else 0)
            elif op is atomic and atomic is not None:
                total += size(av)
            else:
                total += 1
            if total > _MAX_REGEX_SIZE:
                return total
        return total

    return size(_sre_parse.parse(pattern, flags))


def _regex_cost(pattern: str, flags: int = 0) -> float:
    """An upper bound on the steps a backtracking engine takes to try a pattern at one position of a
    text of length 1, to be multiplied by the text's length for each unbounded repeat; ``inf`` when
    no such simple bound holds (a repeat of something that can itself vary, a backreference).
    Returned as (cost, repeats): the steps at one position are at most cost * (n + 1) ** repeats."""
    repeats = {_sre.MAX_REPEAT, _sre.MIN_REPEAT, getattr(_sre, "POSSESSIVE_REPEAT", None)}
    atomic = getattr(_sre, "ATOMIC_GROUP", None)
    inf = float("inf")

    def cost(items: Any) -> tuple[float, int]:  # (steps, unbounded repeats) of a sequence
        steps, reps = 1.0, 0
        for op, av in items:
            if op in repeats:
                sub, sub_reps = cost(av[2])
                if sub != 1 or sub_reps:  # a repeat of something that varies: no polynomial bound
                    return inf, 0
                if av[1] > 1000:  # unbounded (or long): up to n + 1 ways
                    reps += 1
                else:
                    steps *= av[1] + 1
            elif op is _sre.BRANCH:
                alts = [cost(b) for b in av[1]]
                steps *= sum(a for a, _ in alts)
                reps += max(r for _, r in alts)
            elif op in (_sre.SUBPATTERN, atomic) and op is not None:
                sub, sub_reps = cost(av[-1] if op is _sre.SUBPATTERN else av)
                steps, reps = steps * sub, reps + sub_reps
            elif op in (_sre.ASSERT, _sre.ASSERT_NOT):
                sub, sub_reps = cost(av[1])
                steps, reps = steps * sub, reps + sub_reps
            elif op in (_sre.GROUPREF, _sre.GROUPREF_EXISTS):
                return inf, 0
            if steps == inf:
                return inf, 0
        return steps, reps

    try:
        return cost(_sre_parse.parse(pattern, flags))
    except (re.error, OverflowError, RecursionError):
        return inf, 0


class _Rx:
    """A compiled pattern the model wrote. A match whose worst case is small (a bound from the
    pattern's shape and the text's length, :func:`_regex_cost`) runs on stdlib ``re``; any other on
    the ``regex`` engine with the GIL released and a timeout (the time left to the line, at most
    :data:`REGEX_TIMEOUT_SECONDS`): a match that takes longer is ``TOOL: regular expression too
    complex``, or stops the line when its budget is what ran out."""

    __slots__ = ("rx", "fast", "cost", "reps", "tool")

    def __init__(self, rx: Any, tool: str, fast: Any = None, cost: tuple[float, int] = (float("inf"), 0)) -> None:
        self.rx, self.tool, self.fast = rx, tool, fast
        self.cost, self.reps = cost

    def _fast(self, text: str) -> Any:
        """The stdlib pattern when trying it on all of text takes few steps in the worst case, else None."""
        if self.fast is None:
            return None
        n = len(text) + 1
        return self.fast if self.cost * n ** (self.reps + 1) <= _FAST_REGEX_STEPS else None

    @property
    def groups(self) -> int:
        return self.rx.groups

    def _timed_out(self) -> _Fail:
        _budget().check()  # raises _Timeout when the line's budget is what ran out
        return _Fail(f"{self.tool}: regular expression too complex (a match took over "
                     f"{REGEX_TIMEOUT_SECONDS:g} s); simplify the pattern or use -F for a fixed string", 2)

    def search(self, text: str) -> Any:
        b = _budget()
        b.tick()
        fast = self._fast(text)
        if fast is not None:
            return fast.search(text)
        try:
            return self.rx.search(text, timeout=b.regex_timeout(), concurrent=True)
        except TimeoutError:
            raise self._timed_out() from None

    def finditer(self, text: str) -> Iterator[Any]:
        """The matches in text. The engine's timeout covers a whole iteration, including the time its
        consumer takes between matches, so an iteration that times out after a match goes on from
        there: only a search that finds nothing for the whole timeout is "too complex"."""
        b, pos = _budget(), 0
        fast = self._fast(text)
        if fast is not None:
            for m in fast.finditer(text):
                b.tick()
                yield m
            return
        while True:
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
                if pos > len(text):
                    return

    def sub(self, repl: Callable[[Any], str], text: str, count: int = 0, room: int = -1) -> tuple[str, bool]:
        """``re.sub`` with a size bound: the result, and whether it was cut at ``room`` characters
        (``room`` < 0: no bound). ``repl`` may raise :class:`_Full` for a replacement too big itself."""
        fast = self._fast(text)
        if fast is not None:  # stdlib re's sub, while the result stays within room
            total = [len(text)]

            def counted(m: Any) -> str:
                piece = repl(m)
                total[0] += len(piece) - (m.end() - m.start())
                if 0 <= room < total[0]:
                    raise _Full()
                return piece

            try:
                return fast.sub(counted, text, count), False
            except _Full:
                pass  # build it piece by piece below, to cut it where the room ends
        pieces, pos, size, n = [], 0, 0, 0
        for m in self.finditer(text):
            pieces.append(text[pos:m.start()])
            size += m.start() - pos
            try:
                pieces.append(repl(m))
            except _Full:
                return "".join(pieces)[:room], True
            size += len(pieces[-1])
            pos, n = m.end(), n + 1
            if 0 <= room < size:
                return "".join(pieces)[:room], True
            if n == count:
                break
        pieces.append(text[pos:])
        size += len(text) - pos
        if 0 <= room < size:
            return "".join(pieces)[:room], True
        return "".join(pieces), False


_POSIX_CLASSES = {"[:alpha:]": "a-zA-Z", "[:digit:]": "0-9", "[:alnum:]": "a-zA-Z0-9", "[:upper:]": "A-Z",
                  "[:lower:]": "a-z", "[:space:]": r"\s", "[:blank:]": r" \t", "[:punct:]": r"!-/:-@\[-`{-~",
                  "[:xdigit:]": "0-9A-Fa-f", "[:word:]": r"\w"}


def _to_python_regex(pattern: str, extended: bool) -> str:
    """Translate a POSIX basic/extended regex to Python's dialect (near enough for grep and sed)."""
    for name, repl in _POSIX_CLASSES.items():
        pattern = pattern.replace(name, repl)
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        nxt = pattern[i + 1] if i + 1 < len(pattern) else ""
        if c == "\\" and nxt in "<>":
            out.append(r"\b")
            i += 2
        elif c == "\\" and nxt and not extended and nxt in "(){}|+?":
            out.append(nxt)
            i += 2
        elif c == "\\" and nxt:
            out.append(c + nxt)
            i += 2
        elif not extended and c in "(){}|+?":
            out.append("\\" + c)
            i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _compile(patterns: list[str], *, extended: bool = False, fixed: bool = False, ignore_case: bool = False,
             word: bool = False, whole_line: bool = False, tool: str = "grep") -> _Rx:
    """Compile grep-style patterns (Python's dialect after translation; an invalid one matches
    literally). A pattern that would compile too big is refused with GNU grep's message."""
    flags = re.IGNORECASE if ignore_case else 0
    alternatives, size = [], 0
    for p in patterns:
        _tick()
        rx = re.escape(p) if fixed else _to_python_regex(p, extended)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                size += _regex_size(rx, flags)
        except (re.error, OverflowError, RecursionError):
            rx = re.escape(p)
            size += len(p)
        if size > _MAX_REGEX_SIZE:
            raise _Fail(f"{tool}: regular expression too big", 2)
        alternatives.append(rx)
    body = "|".join(f"(?:{a})" for a in alternatives)
    if word:
        body = rf"(?<!\w)(?:{body})(?!\w)"
    if whole_line:
        body = rf"^(?:{body})$"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cost = _regex_cost(body, flags)
            fast = re.compile(body, flags) if cost[0] * 2 ** (cost[1] + 1) <= _FAST_REGEX_STEPS else None
            return _Rx(_regex.compile(body, flags | _regex.VERSION0, cache_pattern=False), tool, fast, cost)
    except (_regex.error, RecursionError):  # valid for Python's re, not for regex: match literally
        if fixed:
            raise _Fail(f"{tool}: invalid regular expression", 2) from None
        return _compile(patterns, fixed=True, ignore_case=ignore_case, word=word, whole_line=whole_line, tool=tool)
    except (OverflowError, MemoryError):
        raise _Fail(f"{tool}: regular expression too big", 2) from None
