"""Commands that look and compute: listing, reading, searching, text tools, information, nesting."""

from __future__ import annotations

import fnmatch
import posixpath
import re
import shlex
from itertools import chain
from typing import Any

from .limits import (_MAX_INVOCATIONS, _MAX_STREAM_CHARS, _MAX_TR_SET, _compile, _Exit, _Fail, _Full,
                     _join_lines, _lines, _nbytes, _replaced, _tick, _unescape)
from .runtime import _COMMANDS, _command, _Ctx, _Opts
from .vfs import _DEVICES

_PRINTF = re.compile(r"%([-+ 0#]*)(\d*)(?:\.(\d+))?([sdiuxXfeEgcb%])")
_SHELL_ONLY = {"cd", "export", "unset", "alias", "source", ".", "history", "exit", "set"}
_SED_ADDRESS = r"(\d+|\$|/(?:[^/\\\n]|\\.)*/)"
_SED_COMMAND = re.compile(rf"[\s;]*{_SED_ADDRESS}?(?:,{_SED_ADDRESS})?(.?)")
_TR_CLASSES = {"[:lower:]": "a-z", "[:upper:]": "A-Z", "[:digit:]": "0-9", "[:alpha:]": "a-zA-Z",
               "[:alnum:]": "a-zA-Z0-9", "[:space:]": " \t\n\r\f\v", "[:punct:]": "!-/:-@[-`{-~"}


class _ReadOnly:
    """Commands that change nothing outside their own output (``sed -i`` excepted)."""

    def _ls_rows(self, ctx: _Ctx, entries: list[tuple[str, str]], long: bool, total: bool) -> str:
        if not long:
            return ("  " if ctx.tty else "\n").join(n for n, _ in entries) + "\n" if entries else ""
        rows, when = [], f"{self._dt:%b} {self._dt.day:>2} {self._dt:%H:%M}"
        for name, path in entries:
            _tick()
            (mode, owner, group), is_dir = self._meta(path), self.fs.is_dir(path)
            bits = "".join(ch if mode & (1 << (8 - i)) else "-" for i, ch in enumerate("rwxrwxrwx"))
            kind = "d" if is_dir else "c" if path in _DEVICES else "-"
            size = str(4096 if is_dir else _nbytes(self.fs.files.get(path, "")))
            rows.append((kind + bits, "2" if is_dir else "1", owner, group, size, name))
        w = [max((len(r[i]) for r in rows), default=0) for i in range(5)]
        return (f"total {4 * len(rows)}\n" if total else "") + _join_lines(
            f"{r[0]} {r[1]} {r[2]:<{w[2]}} {r[3]:<{w[3]}} {r[4]:>{w[4]}} {when} {r[5]}" for r in rows)

    @_command("ls", help="list directory contents")
    def _ls(self, ctx: _Ctx) -> int:
        o, paths = ctx.getopt("laAR1d", "all:a almost-all:A recursive:R directory:d", code=2)
        files, queue, sections = [], [], []
        for p in paths or ["."]:
            if not self.fs.exists(ap := self._abs(p)):
                ctx.err(f"ls: cannot access '{p}': No such file or directory")
                ctx.status = 2
            else:
                (queue if self.fs.is_dir(ap) and "d" not in o else files).append((p, ap))
        sections += [self._ls_rows(ctx, sorted(files), "l" in o, False)] if files else []
        queue.sort()
        while queue:
            _tick()
            disp, ap = queue.pop(0)
            names = [n for n in self.fs.listdir(ap) if "a" in o or "A" in o or not n.startswith(".")]
            entries = [(".", ap), ("..", posixpath.dirname(ap))] * ("a" in o) + [(n, posixpath.join(ap, n)) for n in names]
            head = f"{disp}:\n" if len(paths) > 1 or "R" in o else ""
            sections.append(head + self._ls_rows(ctx, entries, "l" in o, True))
            if "R" in o:
                queue[0:0] = [(posixpath.join(disp, n), p) for n, p in entries[2 * ("a" in o):] if self.fs.is_dir(p)]
        ctx.out("\n".join(sections))
        return ctx.status

    @_command("cd", help="change the shell working directory")
    def _cd(self, ctx: _Ctx) -> int:
        target = (ctx.args or [self.home])[0]
        if target == "-":
            target = self._oldpwd
            ctx.out(target + "\n")
        if not self.fs.is_dir(path := self._abs(target)):
            raise _Fail(f"bash: cd: {target}: {'Not a directory' if self.fs.exists(path) else 'No such file or directory'}")
        self._oldpwd, self.cwd = self.cwd, path
        return 0

    @_command("cat", "less", "more", help="concatenate files and print on the standard output")
    def _cat(self, ctx: _Ctx) -> int:
        o, operands = ctx.getopt("n", "number:n")
        for _, text in self._inputs(ctx, operands):
            ctx.out(_join_lines(f"{i:>6}\t{line}" for i, line in enumerate(_lines(text), 1)) if "n" in o else text)
        return ctx.status

    @_command("head", "tail", help="output the first (head) or last (tail) part of files")
    def _head_tail(self, ctx: _Ctx) -> int:
        args = ["-n" + a[1:] if re.fullmatch(r"-\d+", a) else a for a in ctx.args]
        o, operands = ctx.getopt("n:c:qf", "lines:n bytes:c quiet:q follow:f", args=args)
        chars = "c" in o
        if not re.fullmatch(r"[+-]?\d{1,9}", spec := str(o.get("c" if chars else "n", "10"))):
            raise _Fail(f"{ctx.name}: invalid number of {'bytes' if chars else 'lines'}: '{spec}'")
        n, inputs = abs(int(spec)), list(self._inputs(ctx, operands))
        for k, (label, text) in enumerate(inputs):
            ctx.out(("\n" if k else "") + f"==> {label} <==\n" if len(inputs) > 1 and "q" not in o else "")
            items = text if chars else _lines(text)
            if ctx.name == "tail":
                items = items[max(n - 1, 0):] if spec[0] == "+" else items[-n:] if n else items[:0]
            else:
                items = items[:-n] if spec[0] == "-" else items[:n]
            ctx.out(items if chars else _join_lines(items))
        return ctx.status

    @_command("grep", "egrep", help="print lines that match patterns")
    def _grep(self, ctx: _Ctx) -> int:
        o, rest = ctx.getopt("iErRnlvcFwoHhqse:A:B:C:", (
            "ignore-case:i extended-regexp:E recursive:r line-number:n files-with-matches:l invert-match:v count:c "
            "fixed-strings:F word-regexp:w only-matching:o with-filename:H no-filename:h quiet:q no-messages:s "
            "regexp:e after-context:A before-context:B context:C color? colour?"), code=2)
        try:  # context lines: -C N both sides, -A/-B one side (either wins over -C)
            after, before = (int(o.get(k, o.get("C", 0))) for k in ("A", "B"))
        except ValueError:
            raise _Fail(f"grep: {o.get('A') or o.get('B') or o.get('C')}: invalid context length argument", 2) from None
        if not (patterns := o.all("e")):
            if not rest:
                raise _Fail("Usage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information.", 2)
            patterns = [rest.pop(0)]
        regex = _compile([p for pat in patterns for p in pat.split("\n")], extended="E" in o or ctx.name == "egrep",
                         fixed="F" in o, ignore_case="i" in o, word="w" in o)
        recursive, inputs = "r" in o or "R" in o, []
        for t in rest or (["."] if recursive else ["-"]):
            if t == "-" or not self.fs.is_dir(ap := self._abs(t)):
                inputs.append(t)
            elif not recursive:
                ctx.err(f"grep: {t}: Is a directory")
            else:
                inputs += [posixpath.normpath(posixpath.join(t, posixpath.relpath(f, ap))) for f in self._files_under(ap)]
        names = ("H" in o or len(inputs) > 1 or recursive and inputs != ["-"]) and "h" not in o
        found = False
        for label, text in self._inputs(ctx, inputs):
            lines = _lines(text)
            selected = [(i, line) for i, line in enumerate(lines, 1) if bool(regex.search(line)) != ("v" in o)]
            found, shown = found or bool(selected), label if names else None
            if "q" in o or "l" in o:
                ctx.out(f"{label}\n" if selected and "l" in o and "q" not in o else "")
            elif "c" in o:
                ctx.out(f"{shown}:{len(selected)}\n" if shown else f"{len(selected)}\n")
            elif selected and "\0" in text:
                ctx.out(f"Binary file {label} matches\n")
            elif (after or before) and "o" not in o:
                self._grep_context(ctx, lines, shown, selected, "n" in o, max(0, before), max(0, after))
            else:
                self._grep_lines(ctx, regex, shown, selected, "n" in o, "o" in o and "v" not in o)
        return 2 if ctx.status else 0 if found else 1

    @staticmethod
    def _grep_context(ctx: _Ctx, lines: list[str], label: str | None, selected: list, numbers: bool, before: int,
                      after: int) -> None:
        """The selected lines with their context in grep's format (``:`` on matches, ``-`` on context, ``--``
        between groups), in one pass: each line is written once, however the groups overlap."""
        hits, last = {i for i, _ in selected}, 0  # last: the last line written
        for i, _ in selected:
            start, end = max(i - before, last + 1, 1), min(i + after, len(lines))
            if end < start:
                continue
            if last and start > last + 1:
                ctx.out("--\n")
            for j in range(start, end + 1):
                if ctx.sink.full:
                    return
                sep = ":" if j in hits else "-"
                ctx.out((f"{label}{sep}" if label else "") + (f"{j}{sep}" if numbers else "") + f"{lines[j - 1]}\n")
            last = end

    @staticmethod
    def _grep_lines(ctx: _Ctx, regex: Any, label: str | None, selected: list, numbers: bool, only: bool) -> None:
        """The selected lines (or, with -o, their matches) in grep's format, each written on its own: a long
        label times many matches is never built."""
        for i, line in selected:
            prefix = (f"{label}:" if label else "") + (f"{i}:" if numbers else "")
            for part in (m.group() for m in regex.finditer(line) if m.group()) if only else [line]:
                if ctx.sink.full:
                    return
                ctx.out(f"{prefix}{part}\n")

    @_command("find", help="search for files in a directory hierarchy")
    def _find(self, ctx: _Ctx) -> int:
        args, roots, tests, execs, maxdepth, delete, i = ctx.args, [], [], [], 10_000, False, 0
        while args[i:] and not args[i].startswith("-"):
            roots, i = roots + [args[i]], i + 1
        while i < len(args):
            a, value = args[i], args[i + 1] if i + 1 < len(args) else None
            end = next((j for j in range(i + 2, len(args)) if args[j] in (";", "+")), None) if a == "-exec" else i
            if a not in ("-exec", "-print", "-delete", "-name", "-iname", "-type", "-maxdepth"):
                raise _Fail(f"find: unknown predicate `{a}'")
            if end is None or value is None and a not in ("-print", "-delete"):
                raise _Fail(f"find: missing argument to `{a}'")
            if a == "-maxdepth" and not (value.isascii() and value.isdigit()):
                raise _Fail(f"find: Expected a positive decimal integer argument to -maxdepth, but got `{value}'")
            execs += [(args[i + 1:end], args[end] == "+")] if a == "-exec" else []
            tests += [(a, value)] if a in ("-name", "-iname", "-type") else []
            maxdepth, delete = int(value) if a == "-maxdepth" else maxdepth, delete or a == "-delete"
            i = end + 1 if a in ("-exec", "-print", "-delete") else i + 2
        matches: list[tuple[str, str]] = []
        for root in roots or ["."]:
            if not self.fs.exists(ap := self._abs(root)):
                ctx.err(f"find: '{root}': No such file or directory")
                continue
            for p in [ap] + self.fs.walk(ap):
                _tick()
                rel = p[len(ap):].lstrip("/")
                disp = root if not rel else (root.rstrip("/") + "/" + rel if root != "/" else "/" + rel)
                if (rel.count("/") + 1 if rel else 0) <= maxdepth and all(self._find_test(p, disp, *t) for t in tests):
                    matches.append((p, disp))
        if not execs and not delete:
            ctx.out(_join_lines(d for _, d in matches))
        if delete:
            self._delete(ctx, "find", [p for p, _ in reversed(matches) if p not in ("/", self.home)])
        for template, batch in execs:
            for group in ([[d for _, d in matches]] if batch else [[d] for _, d in matches])[:_MAX_INVOCATIONS]:
                self._invoke(ctx, [x for t in template for x in (group if t == "{}" else [_replaced(t, "{}", group[0], "find")])])
        return ctx.status

    def _find_test(self, path: str, shown: str, test: str, value: str) -> bool:
        if test == "-type":
            return self.fs.is_dir(path) if value == "d" else value == "f" and self.fs.is_file(path)
        name = posixpath.basename(shown)
        return fnmatch.fnmatchcase(name.lower(), value.lower()) if test == "-iname" else fnmatch.fnmatchcase(name, value)

    @_command("wc", help="print newline, word, and byte counts for each file")
    def _wc(self, ctx: _Ctx) -> int:
        o, operands = ctx.getopt("lwcm", "lines:l words:w bytes:c chars:m")
        keys, rows = [k for k in "lwcm" if k in o] or ["l", "w", "c"], []
        for label, text in self._inputs(ctx, operands):
            counts = {"l": text.count("\n"), "w": len(text.split()), "c": _nbytes(text), "m": len(text)}
            rows.append(([counts[k] for k in keys], "" if label == "(standard input)" else label))
        if len(rows) > 1:
            rows.append(([sum(r[0][i] for r in rows) for i in range(len(keys))], "total"))
        width = 0 if len(keys) == 1 else 7
        ctx.out(_join_lines(" ".join(f"{v:>{width}}" for v in vals) + (f" {label}" if label else "") for vals, label in rows))
        return ctx.status

    @_command("echo", help="display a line of text")
    def _echo(self, ctx: _Ctx) -> int:
        args, newline, escapes = ctx.args, True, False
        while args and re.fullmatch(r"-[neE]+", args[0]):
            newline, escapes = newline and "n" not in args[0], "e" in args[0] or (escapes and "E" not in args[0])
            args = args[1:]
        text, stop = _unescape(" ".join(args)) if escapes else (" ".join(args), False)
        ctx.out(text + ("\n" if newline and not stop else ""))
        return 0

    @_command("printf", help="format and print data")
    def _printf(self, ctx: _Ctx) -> int:
        if not ctx.args:
            raise _Fail("printf: usage: printf format [arguments]", 2)
        fmt, args, out, size = ctx.args[0], ctx.args[:0:-1], [], 0  # args reversed: popped from the end

        def convert(flags: str, width: str, prec: str | None, conv: str) -> str:
            arg = args.pop() if args else ""
            spec = "%" + flags + str(min(int(width or 0), 1000) or "") + (f".{min(int(prec), 100)}" if prec else "")
            try:
                value: Any = arg if conv == "s" else _unescape(arg)[0] if conv == "b" else arg[:1] if conv == "c" else \
                    float(arg or 0) if conv in "feEg" else int(arg or "0", 16 if arg[:2].lower() == "0x" else 10)
                return (spec + ("s" if conv in "sbc" else "d" if conv in "iu" else conv)) % value
            except (ValueError, OverflowError):
                ctx.err(f"printf: {arg}: invalid number")
                return "0"

        while size <= _MAX_STREAM_CHARS:  # the rest would be cut: stop building it
            pos, consumed = 0, False
            for m in _PRINTF.finditer(fmt):
                _tick()
                out += [_unescape(fmt[pos:m.start()])[0], "%" if m.group(4) == "%" else convert(*m.groups())]
                consumed, pos, size = consumed or m.group(4) != "%", m.end(), size + len(out[-2]) + len(out[-1])
                if size > _MAX_STREAM_CHARS:
                    break
            out.append(_unescape(fmt[pos:])[0])
            if not consumed or not args:
                break
        ctx.out("".join(out)[:_MAX_STREAM_CHARS])
        return ctx.status

    @_command("sort", help="sort lines of text files")
    def _sort(self, ctx: _Ctx) -> int:
        o, operands = ctx.getopt("rnuk:t:", "reverse:r numeric-sort:n unique:u key:k field-separator:t")
        lines, sep, key_spec = _lines(self._text_input(ctx, operands)), o.get("t"), o.get("k")
        m = re.match(r"(\d+)(?:[.\d]*)(?:,(\d+))?", key_spec or "")
        start, end = (int(m.group(1)), int(m.group(2)) if m.group(2) else None) if m else (1, None)

        def key(line: str) -> Any:
            _tick()
            text = (sep or " ").join((line.split(sep) if sep else line.split())[start - 1:end]) if key_spec else line
            num = re.match(r"\s*(-?\d+(?:\.\d+)?)", text) if "n" in o else None
            return float(num.group(1)) if num else 0.0, text

        lines.sort(key=key, reverse="r" in o)
        if "u" in o:
            seen: set = set()
            lines = [line for line in lines if not ((k := key(line)) in seen or seen.add(k))]
        ctx.out(_join_lines(lines))
        return ctx.status

    @_command("uniq", help="report or omit repeated lines")
    def _uniq(self, ctx: _Ctx) -> int:
        o, operands = ctx.getopt("cdu", "count:c repeated:d unique:u")
        groups: list[list] = []
        for line in _lines(self._text_input(ctx, operands[:1])):
            _tick()
            if groups and groups[-1][0] == line:
                groups[-1][1] += 1
            else:
                groups.append([line, 1])
        ctx.out(_join_lines(f"{n:>7} {line}" if "c" in o else line for line, n in groups
                            if not ("d" in o and n < 2) and not ("u" in o and n > 1)))
        return ctx.status

    @_command("cut", help="remove sections from each line of files")
    def _cut(self, ctx: _Ctx) -> int:
        o, operands = ctx.getopt("d:f:c:b:", "delimiter:d fields:f characters:c bytes:b")
        if not (spec := o.get("f") or o.get("c") or o.get("b")):
            raise _Fail("cut: you must specify a list of bytes, characters, or fields")
        wanted: set[int] = set()
        for part in spec.split(","):
            _tick()
            if not (m := re.fullmatch(r"(\d*)(-?)(\d*)", part)) or part in ("", "-"):
                raise _Fail(f"cut: invalid field value '{part}'")
            lo = int(m.group(1) or 1)
            wanted.update(range(lo, min(int(m.group(3) or (10_000 if m.group(2) else lo)), 10_000) + 1))
        delim, out = o.get("d", "\t")[:1] or "\t", []
        for line in _lines(self._text_input(ctx, operands)):
            _tick()
            if "f" not in o:
                out.append("".join(c for i, c in enumerate(line, 1) if i in wanted))
            else:
                out.append(delim.join(f for i, f in enumerate(line.split(delim), 1) if i in wanted) if delim in line else line)
        ctx.out(_join_lines(out))
        return ctx.status

    @staticmethod
    def _tr_set(spec: str) -> str:
        """A tr set with its classes and ranges expanded; its size is checked before it is built."""
        for name, value in _TR_CLASSES.items():
            spec = spec.replace(name, value)
        spec, items, i, size = _unescape(spec)[0], [], 0, 0
        while i < len(spec):
            ranged = i + 2 < len(spec) and spec[i + 1] == "-" and ord(spec[i + 2]) >= ord(spec[i])
            items.append((ord(spec[i]), ord(spec[i + 2 if ranged else i])))
            i, size = i + (3 if ranged else 1), size + items[-1][1] - items[-1][0] + 1
            if size > _MAX_TR_SET:
                raise _Fail(f"tr: set too large (over {_MAX_TR_SET} characters once its ranges are expanded); "
                            "use -c with the characters to keep")
        return "".join(chr(c) for lo, hi in items for c in range(lo, hi + 1))

    @_command("tr", help="translate or delete characters")
    def _tr(self, ctx: _Ctx) -> int:
        o, sets = ctx.getopt("dscC", "delete:d squeeze-repeats:s complement:c")
        if not sets or (len(sets) < 2 and "d" not in o and "s" not in o):
            raise _Fail("tr: missing operand\nTry 'tr --help' for more information.")
        text, set1 = ctx.stdin or "", self._tr_set(sets[0])
        present = set(text)  # only the characters the text holds need a mapping
        if complement := "c" in o or "C" in o:
            set1 = "".join(sorted(present - set(set1)))
        if "d" in o:
            text = text.translate(dict.fromkeys(map(ord, present & set(set1))))
        elif len(sets) > 1:
            set2 = self._tr_set(sets[1]) or " "
            text = text.translate({ord(c): set2[min(i, len(set2) - 1)] for i, c in enumerate(set1)})
        if "s" in o:
            squeezed = set(self._tr_set(sets[-1])) if len(sets) > 1 or not complement else set(set1)
            if squeeze := "".join(re.escape(c) for c in sorted(squeezed & set(text))):
                text = re.sub(f"([{squeeze}])\\1+", r"\1", text)
        ctx.out(text)
        return 0

    @_command("sed", help="stream editor for filtering and transforming text")
    def _sed(self, ctx: _Ctx) -> int:
        args = ["-i" if a.startswith("-i") and not a.startswith("--") else a for a in ctx.args]
        o, operands = ctx.getopt("ne:iEr", "quiet:n silent:n expression:e in-place:i regexp-extended:E", args=args)
        if not (scripts := o.all("e")):
            if not operands:
                raise _Fail("Usage: sed [OPTION]... {script-only-if-no-other-script} [input-file]...")
            scripts = [operands.pop(0)]
        program = [c for s in scripts for c in self._sed_parse(s, "E" in o or "r" in o)]
        if "i" not in o:
            ctx.out(self._sed_run(program, self._text_input(ctx, operands), "n" in o))
        elif not operands:
            raise _Fail("sed: no input files")
        for label, text in list(self._inputs(ctx, operands)) if "i" in o else []:
            if err := self._save(ctx, self._abs(label), self._sed_run(program, text, "n" in o)):
                raise _Fail(f"sed: couldn't write {label}: {err}", 4)
        return ctx.status

    @staticmethod
    def _sed_parse(script: str, extended: bool) -> list:
        """A sed script of s, p, d and q commands, each with an optional address or range of them (a line, ``$``
        or ``/regex/``)."""
        cmds, i = [], 0
        while i < len(script):
            m = _SED_COMMAND.match(script, i)
            addrs, c, i = [m.group(1), m.group(2)], m.group(3), m.end()
            if c in ("", "/", ",") or addrs[1] and not addrs[0]:
                if not (addrs[0] or addrs[1] or c):
                    break
                why = "unterminated address regex" if c == "/" else "missing command" if c == "" and addrs[0] else \
                    "unexpected `,'"
                raise _Fail(f"sed: -e expression #1, char {i}: {why}")
            for k, a in enumerate(addrs):
                addrs[k] = _compile([a[1:-1]], extended=extended, tool="sed") if a and a[0] == "/" else \
                    int(a[:9]) if a and a != "$" else a
            if c == "s":
                d = re.escape(script[i:i + 1] or "/")
                if not (s := re.compile(rf"{d}((?:[^{d}\\]|\\.)*){d}((?:[^{d}\\]|\\.)*){d}([gpiI0-9]*)").match(script, i)):
                    raise _Fail(f"sed: -e expression #1, char {len(script)}: unterminated `s' command")
                pattern, repl = (x.replace("\\" + script[i], script[i]) for x in s.groups()[:2])
                rx = _compile([pattern], extended=extended, ignore_case="i" in s.group(3).lower(), tool="sed")
                cmds.append((*addrs, "s", (rx, re.findall(r"\\.|.", repl, re.DOTALL), s.group(3))))
                i = s.end()
            elif c in "pdq":
                cmds.append((*addrs, c, None))
            else:
                raise _Fail(f"sed: -e expression #1, char {i}: unknown command: `{c}'")
        return cmds

    @staticmethod
    def _sed_run(program: list, text: str, quiet: bool) -> str:
        """Run a parsed script over text. The output is measured while it is built and stops at the stream cap, so
        ``s/x/&&&…/g``, ``s/\\(.*\\)/\\1\\1…/`` or many ``p`` commands cannot build more."""
        lines, out, left, active = _lines(text), [], [_MAX_STREAM_CHARS], set()  # active: ranges begun

        def hit(addr: Any, i: int, line: str) -> bool:
            return i == addr if isinstance(addr, int) else i == len(lines) if addr == "$" else bool(addr.search(line))

        def emit(line: str) -> None:
            out.append(line[:left[0]])
            left[0] -= len(line) + 1
            if left[0] < 0:
                raise _Full()

        def group(m: Any, p: str) -> str:  # one piece of a replacement: & \1 \n \x or a character
            digit = p[1:].isascii() and p[1:].isdigit() and int(p[1:]) <= (m.re.groups or 0)
            return m.group() if p == "&" else m.group(int(p[1:])) or "" if digit else "\n" if p == "\\n" else p[-1]

        def substitute(rx: Any, repl: list[str], flags: str, line: str) -> str:
            pieces, pos, size = [], 0, 0
            for m in rx.finditer(line):
                for piece in chain([line[pos:m.start()]], (group(m, p) for p in repl)):
                    pieces.append(piece)
                    if (size := size + len(piece)) > left[0]:
                        raise _Full("".join(pieces)[:left[0]])
                pos = m.end()
                if "g" not in flags:
                    break
            return "".join(pieces) + line[pos:]

        try:
            for i, line in enumerate(lines, 1):
                _tick()
                quit_now = False
                for k, (a1, a2, c, arg) in enumerate(program):
                    if a2 is None:  # one address, or none
                        if a1 is not None and not hit(a1, i, line):
                            continue
                    elif k in active:  # inside a range: it ends at a2
                        if hit(a2, i, line) or isinstance(a2, int) and i >= a2:
                            active.discard(k)
                    elif hit(a1, i, line):  # a range begins (one ending at a line already passed ends at once)
                        if not (isinstance(a2, int) and a2 <= i):
                            active.add(k)
                    else:
                        continue
                    if c == "s":
                        line = substitute(*arg, line)
                    if c == "p" or c == "s" and "p" in arg[2]:
                        emit(line)
                    elif c in "dq":
                        line, quit_now = None if c == "d" else line, c == "q"
                        break
                if line is not None and not quiet:
                    emit(line)
                if quit_now:
                    break
        except _Full as full:
            return "\n".join(out + list(full.args))
        return _join_lines(out)

    @_command("ps", help="report a snapshot of the current processes")
    def _ps(self, ctx: _Ctx) -> int:
        procs = self._procs + [{"pid": 2050 + len(self._history) % 900, "user": self.user, "tty": "pts/0",
                                "cmd": "ps " + " ".join(ctx.args)}]
        ctx.out("USER         PID TTY      STAT START   TIME COMMAND\n" + "".join(
            f"{p['user'][:8]:<8} {p['pid']:>7} {p['tty']:<8} Ss   09:14   0:00 {p['cmd']}\n" for p in procs))
        return 0

    @_command("id", help="print real and effective user and group IDs")
    def _id(self, ctx: _Ctx) -> int:
        name = ([a for a in ctx.args if not a.startswith("-")] or [self.user])[0]
        if name != "root" and name not in self.users:
            raise _Fail(f"id: '{name}': no such user")
        groups, uid = dict.fromkeys([name] + (self.users[name]["groups"] if name in self.users else [])), self._uid(name)
        ctx.out(f"uid={uid}({name}) gid={uid}({name}) groups="
                + ",".join(f"{self._gid(g) if g != name else uid}({g})" for g in groups) + "\n")
        return 0

    @_command("sudo", help="execute a command as another user")
    def _sudo(self, ctx: _Ctx) -> int:
        if "-l" in ctx.args:
            ctx.out(f"User {self.user} may run the following commands on {self.hostname}:\n    (ALL : ALL) NOPASSWD: ALL\n")
        elif not {"-v", "-k", "-i", "-s"} & set(ctx.args):
            raise _Fail("usage: sudo -h | -K | -k | -V\nusage: sudo [-u user] [-i | -s] [<command>]")
        return 0

    @_command("bash", "sh", "source", ".", help="GNU Bourne-Again SHell")
    def _bash(self, ctx: _Ctx) -> int:
        sourced, saved = ctx.name in ("source", "."), self.cwd  # a sourced script keeps its cd, a child shell's not
        o, files = (_Opts(), ctx.args) if sourced else ctx.getopt("+c:ilsxe", "login norc noprofile", code=2)
        if "c" in o:
            script, label = o.get("c"), "-c"
        elif files:
            script, label = self._read(ctx, f"bash: {ctx.name}" if sourced else ctx.name, files[0]), files[0]
        elif sourced:
            raise _Fail(f"bash: {ctx.name}: filename argument required", 2)
        elif ctx.stdin is None:
            return 0
        else:
            script, label = ctx.stdin, "stdin"
            ctx.sources.update(ctx.stdin_sources)
        try:
            return self._run_script(ctx, script, label)
        finally:
            self.cwd = self.cwd if sourced else saved

    @_command("xargs", help="build and execute command lines from standard input")
    def _xargs(self, ctx: _Ctx) -> int:
        o, command = ctx.getopt("+0I:n:r", "null:0 max-args:n no-run-if-empty:r")
        replace, command, data = o.get("I"), command or ["echo"], (ctx.stdin or "")[:100_000]
        if "0" in o or replace:
            items = data.split("\0") if "0" in o else [line.strip() for line in _lines(data)]
        else:
            try:
                items = shlex.split(data)
            except ValueError:
                items = data.split()
        if not (items := [x for x in items if x]) and ("r" in o or replace):
            return 0
        if replace:
            batches = [[_replaced(a, replace, item, "xargs") for a in command] for item in items[:_MAX_INVOCATIONS]]
        elif (per := o.get("n", "")).isascii() and per.isdigit() and int(per) > 0:
            batches = [command + items[k:k + int(per)] for k in range(0, min(len(items), int(per) * _MAX_INVOCATIONS), int(per))]
        else:
            batches = [command + items]
        return 123 if any([self._invoke(ctx, argv) for argv in batches or [command]]) else 0  # noqa: C419 (run all)

    @_command("whoami", "pwd", "hostname", "date", "history", "env", "printenv", "which",
              help="print the user, directory, host, date, history, environment or where a command is")
    def _info(self, ctx: _Ctx) -> int:
        env = {"SHELL": "/bin/bash", "PWD": self.cwd, "LOGNAME": self.user, "HOME": self.home, "LANG": "C.UTF-8",
               "USER": self.user, "HOSTNAME": self.hostname, "PATH": "/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
        names = [a for a in ctx.args if not a.startswith("-")]
        if ctx.name == "which":
            found = [n for n in names if n in _COMMANDS and n not in _SHELL_ONLY]
            ctx.out(_join_lines(f"/usr/{'sbin' if n in ('usermod', 'userdel', 'chage', 'sendmail') else 'bin'}/{n}"
                                for n in found))
        elif ctx.name == "printenv" and names:
            found = [n for n in names if n in env]
            ctx.out(_join_lines(env[n] for n in found))
        else:
            fmt = next((a[1:] for a in ctx.args if a.startswith("+")), "%a %b %e %H:%M:%S UTC %Y")
            host = f"{self.hostname}.{self.domain}" if {"-f", "--fqdn", "--long"} & set(ctx.args) else self.hostname
            lines = {"whoami": [self.user], "pwd": [self.cwd], "date": [self._date(fmt)], "hostname": [host],
                     "history": [f"{i:>5}  {line}" for i, line in enumerate(self._history, 1)]}
            ctx.out(_join_lines(lines.get(ctx.name) or [f"{k}={v}" for k, v in env.items()]))
            return 0
        return 0 if len(found) == len(names) else 1

    @_command("clear", "export", "unset", "alias", "set", "umask", "true", ":", "time", "nohup", "timeout", "command",
              "false", "sleep", "exit", "logout", "yes", "seq", "vi", "vim", "nano", help="shell builtins and utilities")
    def _misc(self, ctx: _Ctx) -> int:
        name, args = ctx.name, ctx.args
        if name in ("vi", "vim", "nano"):
            raise _Fail(f"{name}: interactive editors are not available in this terminal; "
                        "use echo, printf, cat with a heredoc, tee or sed -i to edit files")
        if name in ("exit", "logout"):
            raise _Exit(int(args[0]) % 256 if args and re.fullmatch(r"-?\d{1,9}", args[0]) else 2 if args else self._status)
        if name == "yes":
            line = (" ".join(args) or "y") + "\n"
            ctx.out(line * (_MAX_STREAM_CHARS // len(line) + 1))
        if name == "seq":
            if bad := next((a for a in args if not re.fullmatch(r"-?[0-9]+", a)), None):
                raise _Fail(f"seq: invalid floating point argument: '{bad}'")
            if not 1 <= len(nums := [int(a) for a in args]) <= 3 or nums[1:2] == [0] and len(nums) == 3:
                raise _Fail("seq: missing operand" if len(nums) != 3 else "seq: invalid Zero increment value: '0'")
            first, step, last = (1, 1, nums[0]) if len(nums) == 1 else (nums[0], 1, nums[1]) if len(nums) == 2 else nums
            longest = max(len(str(first)), len(str(last))) + 1  # no number is longer: the output is cut before it is built
            numbers = range(first, last + (1 if step > 0 else -1), step)[:min(100_000, _MAX_STREAM_CHARS // longest + 1)]
            ctx.out(_join_lines(map(str, numbers)))
        return 1 if name == "false" else 0
