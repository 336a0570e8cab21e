"""Running lines: streams, the option parser, the command registry, expansion, redirection and the users table."""

from __future__ import annotations

import copy
import fnmatch
import posixpath
import re
import shlex
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from duress.record import Event, check_details

from .limits import (_MAX_ARGV_CHARS, _MAX_DEPTH, _MAX_DISPATCHES, _MAX_EVENT_CHARS_PER_LINE, _MAX_GLOB_WORK,
                     _MAX_STREAM_CHARS, _TRUNCATED, CPU_BUDGET_SECONDS, MAX_COMMAND_CHARS, MAX_COMMANDS_PER_LINE,
                     MAX_EVENT_DATA_CHARS, MAX_OUTPUT_CHARS, STOPPED_MESSAGE, _bounded, _Budget, _budget, _clip,
                     _current, _digest, _Exit, _Fail, _join_lines, _Stop, _tick)
from .syntax import _HereDoc, _parse, _Simple, _tokenize, _Word
from .vfs import _DEVICES, _FileSystem

_COMMANDS: dict[str, Callable[[Any, _Ctx], int]] = {}
_HELP: dict[str, str] = {}
_KEYWORDS = {"if", "then", "else", "elif", "fi", "for", "while", "until", "do", "done", "case", "esac", "select",
             "function", "{", "}", "coproc"}
_WRAPPERS = {"sudo": "+u:g:h:", "env": "+u:", "nohup": "+", "time": "+", "timeout": "+s:k:", "command": "+"}
_GLOB = re.compile(r"[*?[]")
_ETC = ("/etc/passwd", "/etc/group", "/etc/shadow", "/etc/hostname")
_SYSTEM_ACCOUNTS = ["root:x:0:0:root:/root:/bin/bash", "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin",
                    "www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin", "sshd:x:110:65534::/run/sshd:/usr/sbin/nologin"]
_SYSTEM_GROUPS = {"root": 0, "adm": 4, "sudo": 27, "users": 100}
_DAEMONS = ((1, "/sbin/init"), (612, "/usr/sbin/sshd -D"), (640, "/usr/sbin/cron -f"))


@dataclass
class ShellResult:
    """What one command line printed, its exit status and the acts it recorded."""

    output: str
    exit_code: int
    events: list[Event] = field(default_factory=list)
    stopped: bool = False  # the line ran over its CPU budget (or was asked to stop) and was cut short

    def to_dict(self) -> dict:
        return {**vars(self), "events": [e.to_dict() for e in self.events]}


def _command(*names: str, help: str = "") -> Callable:
    """Register a Shell method as the implementation of one or more commands."""

    def register(func: Callable) -> Callable:
        for n in names:
            _COMMANDS[n], _HELP[n] = func, help
        return func

    return register


class _Opts(list):
    """Parsed options: (key, value) pairs in order, keyed by the short letter or (with none) the long name."""

    def __contains__(self, key: object) -> bool:
        return any(k == key for k, _ in self)

    def get(self, key: str, default: Any = None) -> Any:
        return (self.all(key) or [default])[-1]

    def all(self, key: str) -> list[str]:
        return [v for k, v in self if k == key]


def _getopt(args: list[str], short: str, long: str, name: str, *, code: int = 1,
            lenient: bool = False) -> tuple[_Opts, list[str]]:
    """The one option parser, GNU-style: ``short`` as getopt has it (``+`` first: stop at the first operand); ``long``
    names ``flag``, ``takes=``, ``optional?`` or ``alias:x``; ``lenient`` keeps unknown options as flags. Not the
    standard library's ``getopt.gnu_getopt``: its parse depends on the host's ``POSIXLY_CORRECT`` (a command's output
    would differ between machines) and, before Python 3.14, it has no optional values (``--color[=WHEN]``)."""
    letters, posix = short.lstrip("+"), short.startswith("+")
    takes = {c for c, after in zip(letters, letters[1:] + " ") if after == ":"}
    longs = {}  # name -> (key, "" flag | "=" value | "?" optional value)
    for tok in long.split():
        n, _, alias = tok.partition(":")
        longs[n.rstrip("=?")] = (alias or n.rstrip("=?"), "=" if n[-1] == "=" or alias in takes else n[-1] * (n[-1] == "?"))

    def fail(message: str) -> _Fail:
        return _Fail(f"{name}: {message}\nTry '{name} --help' for more information.", code)

    pairs: list[tuple[str, str]] = []
    operands: list[str] = []
    i = 0
    while i < len(args):
        a, i = args[i], i + 1
        if a == "--":
            operands += args[i:]
            break
        if a.startswith("--"):
            n, eq, value = a[2:].partition("=")
            key, kind = longs.get(n, (n, "?") if lenient else (None, ""))
            if key is None:
                raise fail(f"unrecognized option '{a}'")
            if kind == "=" and not eq:
                if i >= len(args):
                    raise fail(f"option '--{n}' requires an argument")
                value, i = args[i], i + 1
            elif kind == "" and eq:
                raise fail(f"option '--{n}' doesn't allow an argument")
            pairs.append((key, value))
        elif a.startswith("-") and len(a) > 1:
            for k, ch in enumerate(a[1:], start=2):
                if ch in takes:
                    if not (value := a[k:]):
                        if i >= len(args):
                            raise fail(f"option requires an argument -- '{ch}'")
                        value, i = args[i], i + 1
                    pairs.append((ch, value))
                    break
                if ch == ":" or ch not in letters and not lenient:
                    raise fail(f"invalid option -- '{ch}'")
                pairs.append((ch, ""))
        else:
            operands.append(a)
            if posix:
                operands += args[i:]
                break
    return _Opts(pairs), operands


class _Sink:
    """Collects (fd, text) chunks in order, up to the stream cap."""

    def __init__(self) -> None:
        self.chunks: list[tuple[int, str]] = []
        self.size = 0

    @property
    def full(self) -> bool:
        return self.size >= _MAX_STREAM_CHARS

    def write(self, fd: int, text: str) -> None:
        if text and (room := _MAX_STREAM_CHARS - self.size) > 0:
            self.chunks.append((fd, text[:room]))
            self.size += len(self.chunks[-1][1])

    def text(self) -> str:
        return "".join(t for _, t in self.chunks)


class _Ctx:
    """One simple command being run: argv, stdin, its output (a nested command's joins its parent's) and the files
    what it read came from."""

    def __init__(self, argv: list[str], stdin: str | None, depth: int, text: str, parent: _Ctx | None = None,
                 sources: set | None = None) -> None:
        self.argv, self.stdin, self.depth, self.text = argv, stdin, depth, text
        self.stdin_sources: set[str] = set(sources or ())
        self.sources: set[str] = parent.sources if parent else set()
        self.sink: _Sink = parent.sink if parent else _Sink()
        self.tty, self.status = False, 0

    @property
    def name(self) -> str:
        return posixpath.basename(self.argv[0]) if self.argv else ""

    @property
    def args(self) -> list[str]:
        return self.argv[1:]

    def write(self, fd: int, text: str) -> None:
        self.sink.write(fd, text)

    def out(self, text: str) -> None:
        self.write(1, text)

    def err(self, text: str) -> None:
        self.write(2, text if text.endswith("\n") else text + "\n")
        self.status = self.status or 1

    def getopt(self, short: str, long: str = "", args: list[str] | None = None, **kw: Any) -> tuple[_Opts, list[str]]:
        return _getopt(self.args if args is None else args, short, long, self.name, **kw)


class _Runtime:
    """The session's state (files, users, processes, history) and how a line runs on it."""

    def __init__(self, files: dict[str, str], users: dict[str, dict] | None = None, *, user: str = "agent",
                 home: str = "/home/agent", hostname: str = "ops-01", now: str = "2026-03-12 15:05:00",
                 domain: str = "example.com", cpu_budget: float = CPU_BUDGET_SECONDS) -> None:
        self.user, self.home, self.hostname, self.domain, self.now = user, home, hostname, domain, now
        self.cpu_budget, self._lock = cpu_budget, threading.Lock()
        try:
            self._dt = datetime.fromisoformat(str(now).strip()[:19])
        except ValueError:
            self._dt = datetime(2026, 3, 12, 15, 5)
        self.users: dict[str, dict] = {}
        for name, info in {user: {"groups": [user, "sudo"]}, **(users or {})}.items():
            u = copy.deepcopy(dict(info or {}))
            u.update(name=str(u.get("name") or name), email=str(u.get("email") or f"{name}@{domain}"),
                     groups=[str(g) for g in u.get("groups") or []], locked=bool(u.get("locked", False)))
            self.users[name] = {"shell": "/bin/bash", "expires": None, **u}
        self._uids = {name: 1000 + i for i, name in enumerate(self.users)}
        self.fs = _FileSystem()
        for d in ("/tmp", "/etc", "/var/log", "/var/mail", "/root", home, *(f"/home/{u}" for u in self.users)):
            self.fs.mkdir(d)
        for path, content in (files or {}).items():
            p = posixpath.normpath("/" + str(path).lstrip("/"))
            try:
                self.fs.mkdir(posixpath.dirname(p))
                self.fs.write(p, str(content), force=True)
            except _Fail as exc:
                raise ValueError(f"cannot place {path!r} in the simulated filesystem: {exc}") from None
        self._generated = [p for p in _ETC if p not in self.fs.files]  # the scenario's own copies are kept
        self._regenerate_etc(initial=True)
        self.cwd = self._oldpwd = home
        self._history: list[str] = []
        self._events: list[Event] = []
        self._perm_changed: set[str] = set()
        self._status = self._dispatches = self._event_chars = 0
        self._procs = [{"pid": pid, "user": "root", "tty": "?", "cmd": cmd} for pid, cmd in _DAEMONS]
        self._procs += [{"pid": 3083 + 17 * i if i else 2001, "user": name, "tty": f"pts/{i}", "cmd": "-bash"}
                        for i, name in enumerate(self.users)]

    def run(self, command_line: str, stop: threading.Event | None = None) -> ShellResult:
        """Run one command line; never raises, whatever the input. Safe from any thread (lines run one at a
        time). A line that uses more than ``cpu_budget`` seconds of CPU, or whose ``stop`` is set while it runs,
        is cut short (``stopped``) with what it printed and the events it caused until then."""
        with self._lock:
            self._events = []
            _current.budget = _Budget(self.cpu_budget, stop)
            try:
                return self._run_top(command_line)
            except Exception as exc:  # noqa: BLE001  (a last guard: hostile input must never crash the caller)
                return ShellResult(f"bash: internal error ({type(exc).__name__})\n", 1, list(self._events))
            finally:
                del _current.budget

    @property
    def history(self) -> list[str]:
        return list(self._history)

    def snapshot(self) -> dict:
        """JSON-serialisable state for the record (waits for a line still running)."""
        with self._lock:
            perms = {p: {"mode": f"{m[0]:04o}", "owner": m[1], "group": m[2]}
                     for p in sorted(self._perm_changed) if (m := self.fs.meta.get(p))}
            return {"cwd": self.cwd, "user": self.user, "files": dict(sorted(self.fs.files.items())),
                    "dirs": sorted(self.fs.children), "users": copy.deepcopy(self.users), "permissions": perms,
                    "history": list(self._history)}

    def _run_top(self, line: Any) -> ShellResult:
        line = line.decode("utf-8", "replace") if isinstance(line, bytes) else str(line)
        if line.strip():
            self._history.append(line if len(line) <= MAX_COMMAND_CHARS else line[:200] + " ...")
        if len(line) > MAX_COMMAND_CHARS:
            return ShellResult(f"bash: command line too long ({len(line)} characters; the limit is "
                               f"{MAX_COMMAND_CHARS})\n", 2, [])
        term, self._dispatches, self._event_chars, stopped = _Sink(), 0, 0, False
        try:
            status = self._run_line(line, term, 0)
        except _Stop as exc:  # with a message: too many commands; without: out of CPU budget, or asked to stop
            term.write(2, "".join(exc.args))
            stopped, status = not exc.args, 1 if exc.args else 124
        self._status = status
        text = term.text().replace("\0", "")
        note = STOPPED_MESSAGE.format(budget=self.cpu_budget) if stopped else ""
        text += "\n" if note and text and not text.endswith("\n") else ""
        if len(text) + len(note) > MAX_OUTPUT_CHARS:
            text = text[:MAX_OUTPUT_CHARS - len(_TRUNCATED) - len(note)] + _TRUNCATED
        return ShellResult(text + note, status, list(self._events), stopped)

    def _run_line(self, line: str, term: _Sink, depth: int) -> int:
        """Parse and run a line (or script) writing to term; syntax errors are reported, not raised."""
        try:
            program = _parse(_tokenize(line))
        except _Fail as exc:
            term.write(2, exc.message + "\n")
            return exc.code
        simples = [s for andor in program for _, pipeline in andor for s in pipeline]
        heads = [s.words[0].parts for s in simples if s.words]
        if keyword := next((p[0][1] for p in heads if len(p) == 1 and p[0][0] == "lit" and p[0][1] in _KEYWORDS), None):
            term.write(2, f"bash: `{keyword}': compound commands (if, for, while, case, functions) are not "
                          "supported in this shell; run simple commands one at a time\n")
            return 2
        if len(simples) > MAX_COMMANDS_PER_LINE:
            term.write(2, f"bash: too many commands in one line ({len(simples)}; the limit is {MAX_COMMANDS_PER_LINE})\n")
            return 2
        status = self._status
        try:
            for andor in program:
                for connector, pipeline in andor:
                    if (connector == "&&" and status != 0) or (connector == "||" and status == 0):
                        continue
                    data, sources = None, set()
                    for k, simple in enumerate(pipeline):
                        data, sources, status = self._run_simple(simple, data, sources, k == len(pipeline) - 1, term,
                                                                 depth)
                    self._status = status
        except _Exit as exc:
            return exc.code
        return status

    def _run_simple(self, simple: _Simple, stdin: str | None, sources: set, last: bool, term: _Sink, depth: int):
        """Expand, redirect, dispatch and route one simple command; returns (piped stdout, its sources, status)."""
        argv: list[str] = []
        size = 0
        fds: dict[int, Any] = {1: "term1" if last else "pipe", 2: "pipe" if simple.pipe_stderr and not last else "term2"}
        opened: dict[str, bool] = {}  # files redirected to -> appended
        try:
            for word in simple.words:
                _tick()
                argv += (words := self._expand(word))
                if (size := size + sum(len(w) + 1 for w in words)) > _MAX_ARGV_CHARS:
                    raise _Fail(f"bash: {argv[0][:100]}: Argument list too long", 126)
            ctx = _Ctx(argv, stdin, depth, shlex.join(argv), sources=sources)
            for redirect in simple.redirects:
                self._redirect(*redirect, fds, ctx, opened)
        except _Fail as exc:
            term.write(2, exc.message + "\n")
            return "", set(), exc.code
        ctx.tty = fds[1] == "term1" and depth == 0
        status = self._dispatch(ctx) if argv else 0
        piped, to_files = [], {}
        for fd, text in ctx.sink.chunks:
            target = fds.get(fd, "term2")
            if target == "pipe":
                piped.append(text)
            elif target in ("term1", "term2"):
                term.write(1 if target == "term1" else 2, text)
            elif target != "null":
                to_files.setdefault(target[1], []).append(text)
        for path, append in opened.items():
            written = "".join(to_files.get(path, []))
            try:
                self._write(path, written, append=True)
            except _Fail as exc:
                term.write(2, f"bash: {path}: {exc}\n")
                status = 1
            self._event("write", ctx, tool="redirect", paths=[path], append=append, content=_clip(written))
        return "".join(piped), ctx.sources | ctx.stdin_sources, status

    def _redirect(self, op: str, fd: int | None, word: Any, fds: dict, ctx: _Ctx, opened: dict) -> None:
        if isinstance(word, _HereDoc):
            ctx.stdin = re.sub(r"\$\{([A-Za-z_]\w*)\}|\$([A-Za-z_]\w*)", lambda m: self._var(m.group(1) or m.group(2)),
                               word.body) if word.expand else word.body
            ctx.text += f" <<{word.delimiter}"
            return
        if len(words := self._expand(word)) != 1:
            raise _Fail("bash: " + "".join(("$" if k == "var" else "") + t for k, t in word.parts) + ": ambiguous redirect")
        target = words[0]
        ctx.text += f" {'' if fd is None else fd}{op} {shlex.quote(target)}"
        if op == "<<<":
            ctx.stdin = target + "\n"
            return
        if op == ">&" and (target == "-" or (target.isascii() and target.isdigit() and len(target) < 3)):
            if target != "-" and int(target) not in fds:
                raise _Fail(f"bash: {target}: Bad file descriptor")
            fds[1 if fd is None else fd] = "null" if target == "-" else fds[int(target)]
            return
        path = self._abs(target)
        if self.fs.is_dir(path) and path not in _DEVICES:
            raise _Fail(f"bash: {target}: Is a directory")
        if op == "<":
            if not self.fs.is_file(path):
                raise _Fail(f"bash: {target}: No such file or directory")
            ctx.stdin = self.fs.read(path)
            ctx.stdin_sources.add(path)
            return
        dest: Any = {"/dev/stdout": fds[1], "/dev/stderr": fds[2], "/dev/tty": "term1"}.get(path, "null")
        if path not in _DEVICES:
            if path not in opened:
                try:
                    self._write(path, "", append=op in (">>", "&>>"))
                except _Fail as exc:
                    raise _Fail(f"bash: {target}: {exc}") from None
                opened[path] = op in (">>", "&>>")
            dest = ("file", path)
        for n in (1, 2) if op in ("&>", "&>>", ">&") else (1 if fd is None else fd,):
            fds[n] = dest

    def _dispatch(self, ctx: _Ctx) -> int:
        """Find and run the command named by argv[0] (after sudo, env, nohup and the like)."""
        self._dispatches += 1
        if self._dispatches > _MAX_DISPATCHES:
            raise _Stop(f"bash: too many commands run for one line (limit {_MAX_DISPATCHES}); stopped\n")
        _budget().check()
        try:
            ctx.argv = self._unwrap(ctx.argv)
            name = re.sub(r"^(/usr)?(/local)?/s?bin/(?=.)", "", ctx.argv[0]) if ctx.argv else ""
            if not ctx.argv:
                return 0
            if name not in _COMMANDS:
                return self._run_path(ctx)
            if "--help" in ctx.args and name not in ("echo", "printf"):
                ctx.out(f"Usage: {name} [OPTION]... [ARGUMENT]...\n{_HELP[name].capitalize()}.\n")
                return 0
            return _COMMANDS[name](self, ctx)
        except _Fail as exc:
            ctx.err(exc.message)
            return exc.code

    def _unwrap(self, argv: list[str]) -> list[str]:
        """Strip assignments and transparent wrappers (sudo, env, nohup, time, timeout, command)."""
        while argv and (re.match(r"[A-Za-z_]\w*=", argv[0]) or argv[0] in _WRAPPERS):
            if argv[0] not in _WRAPPERS:
                argv = argv[1:]
                continue
            o, rest = _getopt(argv[1:], _WRAPPERS[argv[0]], "", argv[0], lenient=True)
            if argv[0] == "command" and ("v" in o or "V" in o):
                return ["which", *rest]
            if not (rest := rest[1:] if argv[0] == "timeout" else rest):
                return argv
            argv = rest
        return argv

    def _invoke(self, ctx: _Ctx, argv: list[str], stdin: str | None = None) -> int:
        """Run a nested command (xargs, find -exec, scp fallback) whose output joins ctx's."""
        if ctx.depth >= _MAX_DEPTH:
            raise _Fail(f"{ctx.name}: maximum nesting depth exceeded")
        if sum(len(a) + 1 for a in argv) > _MAX_ARGV_CHARS:
            raise _Fail(f"{ctx.name}: {(argv or [''])[0][:100]}: Argument list too long", 126)
        return self._dispatch(_Ctx(argv, stdin, ctx.depth + 1, shlex.join(argv), parent=ctx))

    def _run_script(self, ctx: _Ctx, text: str, label: str) -> int:
        if ctx.depth >= _MAX_DEPTH:
            raise _Fail(f"bash: {label}: maximum nesting depth exceeded")
        if len(text) > MAX_COMMAND_CHARS:
            raise _Fail(f"bash: {label}: script too long for this shell (limit {MAX_COMMAND_CHARS} characters)")
        return self._run_line(text, ctx.sink, ctx.depth + 1)

    def _run_path(self, ctx: _Ctx) -> int:
        """argv[0] is not a known command: run a virtual script by path, or 'command not found'."""
        name, path = ctx.argv[0], self._abs(ctx.argv[0])
        if "/" not in name:
            raise _Fail(f"bash: {name}: command not found", 127)
        if self.fs.is_dir(path):
            raise _Fail(f"bash: {name}: Is a directory", 126)
        if path not in self.fs.files:
            raise _Fail(f"bash: {name}: No such file or directory", 127)
        if not self._meta(path)[0] & 0o111:
            raise _Fail(f"bash: {name}: Permission denied", 126)
        ctx.sources.add(path)
        return self._run_script(ctx, self.fs.read(path), name)

    def _var(self, name: str) -> str:
        return {"HOME": self.home, "USER": self.user, "PWD": self.cwd}.get(name, "")

    def _expand(self, word: _Word) -> list[str]:
        """Variables, tilde and globbing for one word (quoted text and variables' values are never globbed)."""
        segments: list[tuple[str, bool]] = []  # (text, quoted)
        for k, (kind, text) in enumerate(word.parts):
            if kind == "lit" and k == 0 and text.startswith("~"):
                head, sep, tail = text.partition("/")
                home = {"": self.home, "root": "/root", **{u: f"/home/{u}" for u in self.users}}.get(head[1:])
                segments += [(home, True)] if home is not None else []
                text = sep + tail if home is not None else text
            segments.append((self._var(text), True) if kind == "var" else (text, kind == "q"))
        segments = [(t, q) for t, q in segments if t]
        if not segments and not any(k == "q" for k, _ in word.parts):
            return []
        whole = "".join(t for t, _ in segments)
        if any(not q and _GLOB.search(t) for t, q in segments):
            return self._glob("".join(re.sub(r"([*?[])", r"[\1]", t) if q else t for t, q in segments), whole) or [whole]
        return [whole]

    def _glob(self, pattern: str, whole: str) -> list[str]:
        """Paths matching a pattern (quoted characters already escaped), one component at a time, as (shown,
        absolute) pairs; each step keeps 5000 at most, and one glob looks at :data:`_MAX_GLOB_WORK` names at most."""
        comps = pattern.split("/")
        results, work = [("/", "/")] if pattern.startswith("/") else [("", self.cwd)], 0
        for comp in comps[1:] if pattern.startswith("/") else comps:
            new = []
            if not comp:
                new = [(d if d.endswith("/") or not d else d + "/", a) for d, a in results if self.fs.is_dir(a)]
            for shown, absdir in results if comp and _GLOB.search(comp) else ():
                names = self.fs.listdir(absdir)
                if (work := work + len(names) + 1) > _MAX_GLOB_WORK:
                    raise _Fail(f"bash: {whole[:100]}: glob too costly to expand (it looked at over {_MAX_GLOB_WORK} names)")
                _tick()
                new += [(posixpath.join(shown, n) if shown else n, posixpath.join(absdir, n)) for n in names
                        if (not n.startswith(".") or comp.startswith(".")) and fnmatch.fnmatchcase(n, comp)]
                if len(new) >= 5000:
                    break
            if comp and not _GLOB.search(comp):
                new = [(posixpath.join(d, comp) if d else comp, posixpath.normpath(posixpath.join(a, comp)))
                       for d, a in results]
            results = new[:5000]
            if sum(len(d) for d, _ in results) > _MAX_ARGV_CHARS:
                raise _Fail(f"bash: {whole[:100]}: Argument list too long", 126)
        return sorted(d for d, a in results if self.fs.exists(a))

    def _abs(self, path: str) -> str:
        if not path or "\0" in path:
            return ""
        p = posixpath.normpath(posixpath.join(self.cwd, path))
        return "/" + p.lstrip("/") if p.startswith("//") else p

    def _meta(self, path: str) -> list:
        """[mode, owner, group] for a path, defaulting by location."""
        if path not in self.fs.meta:
            parts = path.split("/")
            owner = parts[2] if len(parts) > 2 and parts[1] == "home" and parts[2] in self.users else "root"
            mode = 0o755 if self.fs.is_dir(path) else 0o666 if path in _DEVICES else 0o640 if path == "/etc/shadow" else 0o644
            self.fs.meta[path] = [mode, owner, owner]
        return self.fs.meta[path]

    def _write(self, path: str, content: str, append: bool = False) -> None:
        if self.fs.write(path, content, append):
            self.fs.meta[path] = [0o644, self.user, self.user]

    def _save(self, ctx: _Ctx, path: str, content: str, append: bool = False) -> str | None:
        """Write a file and record the write event; the error (an errno string) if it could not be written."""
        try:
            self._write(path, content, append)
        except _Fail as exc:
            return exc.message
        self._event("write", ctx, tool=ctx.name, paths=[path], append=append, content=_clip(content))
        return None

    def _read(self, ctx: _Ctx, tool: str, arg: str) -> str:
        if self.fs.is_dir(path := self._abs(arg)) or not self.fs.is_file(path):
            raise _Fail(f"{tool}: {arg}: {'Is a directory' if self.fs.is_dir(path) else 'No such file or directory'}")
        ctx.sources.add(path)
        return self.fs.read(path)

    def _inputs(self, ctx: _Ctx, operands: list[str]):
        """Yield (label, text) per operand ('-' or none: stdin); errors go to stderr."""
        for arg in operands or ["-"]:
            _budget().check()
            if arg == "-":
                ctx.sources.update(ctx.stdin_sources)
                yield "(standard input)", ctx.stdin or ""
                continue
            try:
                yield arg, self._read(ctx, ctx.name, arg)
            except _Fail as exc:
                ctx.err(exc.message)

    def _text_input(self, ctx: _Ctx, operands: list[str]) -> str:
        """The operands' texts joined, cut at the stream cap (a pipe would not hold more)."""
        parts, size = [], 0
        for _, text in self._inputs(ctx, operands):
            parts.append(text[:_MAX_STREAM_CHARS - size])
            if (size := size + len(parts[-1])) >= _MAX_STREAM_CHARS:
                break
        return "".join(parts)

    def _files_under(self, path: str) -> list[str]:
        return [p for p in self.fs.walk(path) if p in self.fs.files] if self.fs.is_dir(path) else [path]

    def _event(self, kind: str, ctx: _Ctx, **details: Any) -> None:
        """Record a consequential act, checked against its kind's keys. Once the events of one line keep
        :data:`_MAX_EVENT_CHARS_PER_LINE` characters, each further one keeps 1000 (its kind, each detail's start)."""
        check_details(kind, details)
        room = max(1000, _MAX_EVENT_CHARS_PER_LINE - self._event_chars)
        command, used = _bounded(ctx.text, min(room, MAX_EVENT_DATA_CHARS))
        details, more = _bounded(details, room - used)
        self._event_chars += used + more
        self._events.append(Event(kind, command, details))

    def _uid(self, name: str) -> int:
        return 0 if name == "root" else self._uids.get(name, 1000 + len(self._uids))

    def _gid(self, group: str) -> int:
        fixed = {**self._uids, **_SYSTEM_GROUPS}
        known = sorted({g for u in self.users.values() for g in u["groups"]})
        return fixed[group] if group in fixed else 2000 + known.index(group) if group in known else 2999

    def _regenerate_etc(self, initial: bool = False) -> None:
        """Rewrite /etc/passwd, group, shadow and hostname from the user table (unless the scenario supplied them)."""
        passwd, shadow, groups = list(_SYSTEM_ACCOUNTS), ["root:*:19700:0:99999:7:::"], {g: [] for g in _SYSTEM_GROUPS}
        for name, u in self.users.items():
            uid, fake = self._uid(name), _digest(name + u["email"])
            passwd.append(f"{name}:x:{uid}:{uid}:{u['name']},,,:/home/{name}:{u['shell']}")
            shadow.append(f"{name}:{'!' if u['locked'] else ''}$6${fake[:16]}${fake[16:59]}:19700:0:99999:7:::")
            groups.setdefault(name, [])
            for g in u["groups"]:
                groups.setdefault(g, []).append(name)
        texts = {"/etc/passwd": passwd, "/etc/shadow": shadow, "/etc/hostname": [self.hostname],
                 "/etc/group": [f"{g}:x:{self._gid(g)}:{','.join(m for m in ms if m != g)}" for g, ms in groups.items()]}
        for path in self._generated:
            if initial or path in self.fs.files:
                self.fs.write(path, _join_lines(texts[path]), force=True)

    def _addresses(self, values: list[str]) -> list[str]:
        """Split recipient arguments; bare local names become their email address."""
        out = []
        for item in (i.strip() for v in values for i in v.split(",")):
            item = m.group(1).strip() if (m := re.search(r"<([^<>]+)>", item)) else item
            if item and "@" not in item:
                item = self.users[item]["email"] if item in self.users else f"{item}@{self.domain}"
            out += [item] if item else []
        return out

    @property
    def _sender(self) -> str:
        return self.users.get(self.user, {}).get("email") or f"{self.user}@{self.domain}"

    def _date(self, fmt: str = "%a %b %d %H:%M:%S UTC %Y") -> str:
        specials = {"s": str(int((self._dt - datetime(1970, 1, 1)).total_seconds())), "N": "000000000", "Z": "UTC",
                    "z": "+0000", "%": "%", "n": "\n", "t": "\t", "e": f"{self._dt.day:>2}"}
        return re.sub(r"%([A-Za-z%])", lambda m: specials.get(m.group(1)) or self._dt.strftime(m.group()), fmt)
