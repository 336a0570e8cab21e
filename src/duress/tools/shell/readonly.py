"""Commands that look and compute: listing, reading, searching, text tools, information, nesting."""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import math
import posixpath
import re
import shlex
from typing import Any, Callable, Iterator

from .limits import (_MAX_INVOCATIONS, _MAX_STREAM_CHARS, _MAX_TR_SET, _budget, _clip, _compile, _Exit, _Fail, _FsError,
                     _Full, _human, _join_lines, _lines, _nbytes, _replaced, _Rx, _tick, _unescape)
from .runtime import _BUILTINS, _COMMANDS, _HELP, _SBIN, _command, _Ctx, _Opts
from .syntax import _DIGITS


class _ReadOnly:
    """Commands that change nothing outside their own output (``sed -i`` and ``sort -o`` excepted)."""

    @_command("ls", "dir", help="list directory contents")
    def _ls(self, ctx: _Ctx) -> int:
        o, paths = ctx.getopt("laAR1hdrtSFC", {"all": "a", "almost-all": "A", "recursive": "R", "human-readable": "h",
                                               "directory": "d", "reverse": "r"}, code=2)
        long = "l" in o
        files, dirs = [], []
        for p in paths or ["."]:
            ap = self._abs(p)
            if not self.fs.exists(ap):
                ctx.err(f"ls: cannot access '{p}': No such file or directory")
                ctx.status = 2
            elif self.fs.is_dir(ap) and "d" not in o:
                dirs.append((p, ap))
            else:
                files.append((p, ap))
        sections = []
        if files:
            sections.append(self._ls_block(sorted(files, reverse="r" in o), ctx, long, "h" in o, False))
        headers = len(paths) > 1 or "R" in o
        queue = sorted(dirs)
        while queue:
            _tick()
            disp, ap = queue.pop(0)
            names = [n for n in self.fs.listdir(ap) if "a" in o or "A" in o or not n.startswith(".")]
            entries = ([(".", ap), ("..", posixpath.dirname(ap))] if "a" in o else []) + \
                [(n, posixpath.join(ap, n)) for n in names]
            if "F" in o:
                entries = [(n + "/" if self.fs.is_dir(a) and n not in (".", "..") else n, a) for n, a in entries]
            entries.sort(key=lambda e: e[0], reverse="r" in o)
            body = self._ls_block(entries, ctx, long, "h" in o, True)
            sections.append((f"{disp}:\n" if headers else "") + body)
            if "R" in o:
                queue[0:0] = [(posixpath.join(disp, n), posixpath.join(ap, n)) for n in names
                              if self.fs.is_dir(posixpath.join(ap, n))]
        ctx.out("\n".join(s for s in sections))
        return ctx.status

    @_command("cd", help="change the shell working directory")
    def _cd(self, ctx: _Ctx) -> int:
        if len(ctx.args) > 1:
            raise _Fail("bash: cd: too many arguments")
        target = ctx.args[0] if ctx.args else self.home
        if target == "-":
            target = self._oldpwd
            ctx.out(target + "\n")
        path = self._abs(target)
        if not self.fs.exists(path):
            raise _Fail(f"bash: cd: {target}: No such file or directory")
        if not self.fs.is_dir(path):
            raise _Fail(f"bash: cd: {target}: Not a directory")
        self._oldpwd, self.cwd = self.cwd, path
        return 0

    @_command("pwd", help="print name of current/working directory")
    def _pwd(self, ctx: _Ctx) -> int:
        ctx.out(self.cwd + "\n")
        return 0

    @_command("cat", "less", "more", help="concatenate files and print on the standard output")
    def _cat(self, ctx: _Ctx) -> int:
        o, operands = ctx.getopt("nbAEsvTu", {"number": "n"})
        for _, text in self._inputs(ctx, operands):
            if "n" in o:
                text = _join_lines(f"{i:>6}\t{line}" for i, line in enumerate(_lines(text), 1))
            ctx.out(text)
        return ctx.status

    @_command("head", "tail", help="output the first (head) or last (tail) part of files")
    def _head_tail(self, ctx: _Ctx) -> int:
        args = ["-n" + a[1:] if re.fullmatch(r"-\d+", a) else a for a in ctx.args]
        o, operands = ctx.getopt("n:c:qvfF", {"lines=": "n", "bytes=": "c", "quiet": "q", "follow": "f"}, args=args)
        tail, by_chars = ctx.name == "tail", "c" in o
        spec = str(o.get("c" if by_chars else "n", "10"))
        if not re.fullmatch(r"[+-]?\d{1,9}", spec):
            raise _Fail(f"{ctx.name}: invalid number of {'bytes' if by_chars else 'lines'}: '{spec}'")
        n = abs(int(spec))
        inputs = list(self._inputs(ctx, operands))
        for idx, (label, text) in enumerate(inputs):
            if len(inputs) > 1 and "q" not in o:
                ctx.out(("\n" if idx else "") + f"==> {label} <==\n")
            items = text if by_chars else _lines(text)
            if tail:
                chosen = items[n - 1 if n else 0:] if spec.startswith("+") else (items[-n:] if n else items[:0])
            else:
                chosen = items[:-n] if spec.startswith("-") else items[:n]
            ctx.out(chosen if by_chars else _join_lines(chosen))
        return ctx.status

    @_command("grep", "egrep", "fgrep", help="print lines that match patterns")
    def _grep(self, ctx: _Ctx) -> int:
        args = [a for a in ctx.args if not a.startswith(("--color", "--colour"))]
        o, rest = ctx.getopt("iyErRnlLvcFwoHhqsxe:A:B:C:m:P", {
            "ignore-case": "i", "extended-regexp": "E", "recursive": "r", "line-number": "n", "files-with-matches": "l",
            "files-without-match": "L", "invert-match": "v", "count": "c", "fixed-strings": "F", "word-regexp": "w",
            "only-matching": "o", "with-filename": "H", "no-filename": "h", "quiet": "q", "silent": "q",
            "no-messages": "s", "line-regexp": "x", "regexp=": "e", "after-context=": "A", "before-context=": "B",
            "context=": "C", "max-count=": "m", "include=": "include", "exclude=": "exclude", "perl-regexp": "P"},
            args=args, code=2)
        patterns = o.all("e")
        if not patterns:
            if not rest:
                raise _Fail("Usage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information.", 2)
            patterns = [rest.pop(0)]
        patterns = [p for pat in patterns for p in pat.split("\n")]
        regex = _compile(patterns, extended="E" in o or "P" in o or ctx.name == "egrep", fixed="F" in o or ctx.name == "fgrep",
                         ignore_case="i" in o or "y" in o, word="w" in o, whole_line="x" in o)
        try:
            after = int(o.get("A", o.get("C", 0)))
            before = int(o.get("B", o.get("C", 0)))
            max_count = int(o.get("m", -1))
        except ValueError:
            raise _Fail("grep: invalid context length argument", 2) from None
        recursive = "r" in o or "R" in o
        inputs: list[tuple[str, str | None]] = []
        for t in rest or (["."] if recursive else ["-"]):
            ap = self._abs(t)
            if t != "-" and self.fs.is_dir(ap):
                if not recursive:
                    ctx.err(f"grep: {t}: Is a directory")
                    continue
                for f in self._files_under(ap):
                    inputs.append((posixpath.normpath(posixpath.join(t, posixpath.relpath(f, ap))), f))
            else:
                inputs.append((t, None))
        include, exclude = o.all("include"), o.all("exclude")
        inputs = [(lbl, p) for lbl, p in inputs if p is None or (
            (not include or any(fnmatch.fnmatchcase(posixpath.basename(p), g) for g in include))
            and not any(fnmatch.fnmatchcase(posixpath.basename(p), g) for g in exclude))]
        names = ("H" in o or len(inputs) > 1 or (recursive and any(p for _, p in inputs))) and "h" not in o
        found = False
        for label, path in inputs:
            _budget().check()
            if path is None:
                texts = list(self._inputs(ctx, [label]))
                if not texts:
                    ctx.status = 2
                    continue
                label, text = texts[0]
            else:
                ctx.sources.add(path)
                text = self.fs.read(path)
            hits = self._grep_text(ctx, o, regex, label if names else None, text, before, after, max_count)
            found = found or hits > 0
            if found and "q" in o:
                return 0
        return 2 if ctx.status else (0 if found else 1)

    def _grep_text(self, ctx: _Ctx, o: _Opts, regex: _Rx, label: str | None, text: str,
                   before: int, after: int, max_count: int) -> int:
        """Print one file's matches in grep's format; returns the number of selected lines."""
        lines = _lines(text)
        invert, selected = "v" in o, []
        for i, line in enumerate(lines if max_count else ()):
            if bool(regex.search(line)) != invert:
                selected.append(i)
                if len(selected) == max_count:
                    break
        if "q" in o:
            return len(selected)
        if "l" in o or "L" in o:
            if bool(selected) == ("l" in o):
                ctx.out(f"{label or '(standard input)'}\n")
            return len(selected)
        if "c" in o:
            ctx.out(f"{label}:{len(selected)}\n" if label else f"{len(selected)}\n")
            return len(selected)
        if selected and "\0" in text:
            ctx.out(f"Binary file {label or '(standard input)'} matches\n")
            return len(selected)
        chosen = set(selected)
        previous = None
        for i in self._context(selected, before, after, len(lines)):
            if ctx.full:
                break
            _tick()
            if previous is not None and i > previous + 1 and (before or after):
                ctx.out("--\n")
            previous = i
            sep = ":" if i in chosen else "-"
            prefix = (f"{label}{sep}" if label else "") + (f"{i + 1}{sep}" if "n" in o else "")
            if "o" in o and i in chosen and "v" not in o:
                for m in regex.finditer(lines[i]):
                    if m.group():
                        ctx.out(f"{prefix}{m.group()}\n")
                        if ctx.full:
                            break
            else:
                ctx.out(f"{prefix}{lines[i]}\n")
        return len(selected)

    @staticmethod
    def _context(selected: list[int], before: int, after: int, n: int) -> Iterator[int]:
        """The line numbers to show, in order: each selected line with its context (merged, linear)."""
        upto = -1  # the last line already yielded
        for i in selected:
            for j in range(max(upto + 1, i - before, 0), min(n, i + after + 1)):
                yield j
                upto = j

    @_command("find", help="search for files in a directory hierarchy")
    def _find(self, ctx: _Ctx) -> int:
        args, roots = ctx.args, []
        while args and not args[0].startswith("-") and args[0] not in ("!", "("):
            roots.append(args[0])
            args = args[1:]
        tests: list[Callable[[str, str, int], bool]] = []
        exec_cmds: list[tuple[list[str], bool]] = []
        delete, maxdepth, mindepth, negate, printed = False, 10_000, 0, False, False
        i = 0
        while i < len(args):
            a = args[i]
            value = args[i + 1] if i + 1 < len(args) else None
            if a in ("!", "-not"):
                negate = not negate
                i += 1
                continue
            if a in ("-name", "-iname", "-path", "-wholename", "-type", "-maxdepth", "-mindepth", "-user", "-newer",
                     "-size", "-mtime", "-perm") and value is None:
                raise _Fail(f"find: missing argument to `{a}'")
            if a in ("-name", "-iname"):
                pat, fold = (value.lower(), True) if a == "-iname" else (value, False)
                test = (lambda pat, fold: lambda p, d, n: fnmatch.fnmatchcase(
                    posixpath.basename(d).lower() if fold else posixpath.basename(d), pat))(pat, fold)
            elif a in ("-path", "-wholename"):
                test = (lambda pat: lambda p, d, n: fnmatch.fnmatchcase(d, pat))(value)
            elif a == "-type":
                if value not in ("f", "d", "l"):
                    raise _Fail(f"find: Unknown argument to -type: {value}")
                test = (lambda v: lambda p, d, n: (self.fs.is_dir(p) if v == "d" else v == "f" and self.fs.is_file(p)))(value)
            elif a == "-user":
                test = (lambda v: lambda p, d, n: self._meta(p)[1] == v)(value)
            elif a in ("-maxdepth", "-mindepth"):
                if not value.isascii() or not value.isdigit():
                    raise _Fail(f"find: Expected a positive decimal integer argument to {a}, but got `{value}'")
                maxdepth, mindepth = (int(value), mindepth) if a == "-maxdepth" else (maxdepth, int(value))
                i += 2
                continue
            elif a in ("-newer", "-size", "-mtime", "-perm"):
                i += 2
                continue
            elif a in ("-print", "-print0", "-ls"):
                i += 1
                continue
            elif a == "-delete":
                delete, printed, i = True, True, i + 1
                continue
            elif a in ("-exec", "-execdir", "-ok"):
                end = next((j for j in range(i + 1, len(args)) if args[j] in (";", "+")), None)
                if end is None or end == i + 1:
                    raise _Fail(f"find: missing argument to `{a}'")
                exec_cmds.append((args[i + 1:end], args[end] == "+"))
                printed, i = True, end + 1
                continue
            elif a in ("-a", "-and"):
                i += 1
                continue
            else:
                raise _Fail(f"find: unknown predicate `{a}'")
            tests.append((lambda t, neg: lambda p, d, n: t(p, d, n) != neg)(test, negate))
            negate = False
            i += 2
        matches: list[tuple[str, str]] = []
        for root in roots or ["."]:
            ap = self._abs(root)
            if not self.fs.exists(ap):
                ctx.err(f"find: '{root}': No such file or directory")
                continue
            for p in [ap] + self.fs.walk(ap):
                _tick()
                rel = p[len(ap):].lstrip("/") if p != ap else ""
                depth = rel.count("/") + 1 if rel else 0
                disp = root if not rel else (root.rstrip("/") + "/" + rel if root != "/" else "/" + rel)
                if mindepth <= depth <= maxdepth and all(t(p, disp, depth) for t in tests):
                    matches.append((p, disp))
        if not printed:
            ctx.out(_join_lines(d for _, d in matches))
        if delete:
            self._delete(ctx, "find", [p for p, _ in reversed(matches) if p not in ("/", self.home)])
        for template, batch in exec_cmds:
            groups = [[d for _, d in matches]] if batch else [[d] for _, d in matches]
            for group in groups[:_MAX_INVOCATIONS]:
                argv = [x for t in template for x in (group if t == "{}" else [_replaced(t, "{}", group[0], "find")])]
                self._invoke(ctx, argv)
        return ctx.status

    @_command("wc", help="print newline, word, and byte counts for each file")
    def _wc(self, ctx: _Ctx) -> int:
        o, operands = ctx.getopt("lwcm", {"lines": "l", "words": "w", "bytes": "c", "chars": "m"})
        keys = [k for k in "lwcm" if k in o] or ["l", "w", "c"]
        rows = []
        for label, text in self._inputs(ctx, operands):
            counts = {"l": text.count("\n"), "w": len(text.split()), "c": _nbytes(text), "m": len(text)}
            rows.append(([counts[k] for k in keys], "" if label == "(standard input)" else label))
        if len(rows) > 1:
            rows.append(([sum(r[0][i] for r in rows) for i in range(len(keys))], "total"))
        width = 7 if not operands and len(keys) > 1 else max((len(str(v)) for r in rows for v in r[0]), default=1)
        if len(rows) == 1 and len(keys) == 1:
            width = 0
        ctx.out(_join_lines(" ".join(f"{v:>{width}}" for v in vals) + (f" {label}" if label else "") for vals, label in rows))
        return ctx.status

    @_command("echo", help="display a line of text")
    def _echo(self, ctx: _Ctx) -> int:
        args, newline, escapes = ctx.args, True, False
        while args and re.fullmatch(r"-[neE]+", args[0]):
            newline = newline and "n" not in args[0]
            escapes = "e" in args[0] or (escapes and "E" not in args[0])
            args = args[1:]
        text = " ".join(args)
        if escapes:
            text, stop = _unescape(text)
            newline = newline and not stop
        ctx.out(text + ("\n" if newline else ""))
        return 0

    @_command("printf", help="format and print data")
    def _printf(self, ctx: _Ctx) -> int:
        if not ctx.args:
            raise _Fail("printf: usage: printf [-v var] format [arguments]", 2)
        fmt, args, out = ctx.args[0], list(ctx.args[1:]), []
        spec = re.compile(r"%([-+ 0#]*)(\d*)(?:\.(\d+))?([sdiouxXfeEgGcbq%])")
        args.reverse()  # popped from the end
        size = counted = 0
        while True:
            pos, consumed = 0, False
            for m in spec.finditer(fmt):
                _tick()
                size, counted = size + sum(len(x) for x in out[counted:]), len(out)
                if size > _MAX_STREAM_CHARS:  # the rest would be cut: stop building it
                    break
                out.append(_unescape(fmt[pos:m.start()])[0])
                pos = m.end()
                flags, width, prec, conv = m.groups()
                if conv == "%":
                    out.append("%")
                    continue
                arg, consumed = (args.pop() if args else ""), True
                pyspec = "%" + flags + str(min(int(width or 0), 1000) or "") + (f".{min(int(prec), 100)}" if prec else "")
                if conv in "sbqc":
                    value = {"s": arg, "b": _unescape(arg)[0], "q": shlex.quote(arg), "c": arg[:1]}[conv]
                    try:
                        out.append((pyspec + "s") % value)
                    except (TypeError, ValueError):
                        out.append(value)
                    continue
                try:
                    number: Any = float(arg or 0) if conv in "feEgG" else int(arg or 0, 0) if arg[:2].lower() in ("0x",) else int(arg or 0)
                except ValueError:
                    ctx.err(f"printf: {arg}: invalid number")
                    number = 0
                try:
                    out.append((pyspec + ("d" if conv in "iu" else conv)) % number)
                except (TypeError, ValueError, OverflowError):
                    out.append(str(number))
            out.append(_unescape(fmt[pos:])[0])
            if not consumed or not args or size > _MAX_STREAM_CHARS:
                break
        ctx.out("".join(out)[:_MAX_STREAM_CHARS])
        return ctx.status

    @_command("sort", help="sort lines of text files")
    def _sort(self, ctx: _Ctx) -> int:
        o, operands = ctx.getopt("rnufk:t:hVbd", {"reverse": "r", "numeric-sort": "n", "unique": "u",
                                                   "ignore-case": "f", "key=": "k", "field-separator=": "t"})
        lines = _lines(self._text_input(ctx, operands))
        sep, key_spec = o.get("t"), o.get("k")

        def key(line: str) -> Any:
            _tick()
            text = line
            if key_spec:
                m = re.match(r"(\d+)(?:[.\d]*)(?:,(\d+))?", key_spec)
                start = int(m.group(1)) if m else 1
                end = int(m.group(2)) if m and m.group(2) else None
                fields = line.split(sep) if sep else line.split()
                text = (sep or " ").join(fields[start - 1:end])
            if "f" in o:
                text = text.lower()
            if "n" in o or "h" in o:
                num = re.match(r"\s*(-?\d+(?:\.\d+)?)", text)
                return (float(num.group(1)) if num else 0.0, text)
            return (0.0, text)

        lines.sort(key=key, reverse="r" in o)
        if "u" in o:
            seen, unique = set(), []
            for line in lines:
                if key(line) not in seen:
                    seen.add(key(line))
                    unique.append(line)
            lines = unique
        ctx.out(_join_lines(lines))
        return ctx.status

    @_command("uniq", help="report or omit repeated lines")
    def _uniq(self, ctx: _Ctx) -> int:
        o, operands = ctx.getopt("cdui", {"count": "c", "repeated": "d", "unique": "u", "ignore-case": "i"})
        groups: list[list] = []
        for line in _lines(self._text_input(ctx, operands[:1])):
            _tick()
            same = groups and (groups[-1][0].lower() == line.lower() if "i" in o else groups[-1][0] == line)
            if same:
                groups[-1][1] += 1
            else:
                groups.append([line, 1])
        out = [f"{n:>7} {line}" if "c" in o else line for line, n in groups
               if not ("d" in o and n < 2) and not ("u" in o and n > 1)]
        ctx.out(_join_lines(out))
        return ctx.status

    @_command("cut", help="remove sections from each line of files")
    def _cut(self, ctx: _Ctx) -> int:
        o, operands = ctx.getopt("d:f:c:b:s", {"delimiter=": "d", "fields=": "f", "characters=": "c", "bytes=": "b"})
        spec = o.get("f") or o.get("c") or o.get("b")
        if not spec:
            raise _Fail("cut: you must specify a list of bytes, characters, or fields\nTry 'cut --help' for more information.")
        wanted: set[int] = set()
        for part in spec.split(","):
            _tick()
            m = re.fullmatch(r"(\d*)-?(\d*)", part)
            if not m or not part or part == "-":
                raise _Fail(f"cut: invalid field value '{part}'")
            lo = int(m.group(1) or 1)
            hi = int(m.group(2)) if m.group(2) else (lo if "-" not in part else 10_000)
            wanted.update(range(lo, min(hi, 10_000) + 1))
        delim = o.get("d", "\t")[:1] or "\t"
        out = []
        for line in _lines(self._text_input(ctx, operands)):
            _tick()
            if "f" in o:
                if delim not in line:
                    if "s" not in o:
                        out.append(line)
                    continue
                fields = line.split(delim)
                out.append(delim.join(f for i, f in enumerate(fields, 1) if i in wanted))
            else:
                out.append("".join(c for i, c in enumerate(line, 1) if i in wanted))
        ctx.out(_join_lines(out))
        return ctx.status

    @staticmethod
    def _tr_set(spec: str) -> str:
        """A tr set with its classes and ranges expanded; its size is checked before it is built."""
        classes = {"[:lower:]": "a-z", "[:upper:]": "A-Z", "[:digit:]": "0-9", "[:alpha:]": "a-zA-Z",
                   "[:alnum:]": "a-zA-Z0-9", "[:space:]": " \t\n\r\f\v", "[:blank:]": " \t", "[:punct:]": "!-/:-@[-`{-~"}
        for name, value in classes.items():
            spec = spec.replace(name, value)
        spec, items, i, size = _unescape(spec)[0], [], 0, 0
        while i < len(spec):
            if i + 2 < len(spec) and spec[i + 1] == "-" and ord(spec[i + 2]) >= ord(spec[i]):
                items.append((ord(spec[i]), ord(spec[i + 2])))
                i += 3
            else:
                items.append((ord(spec[i]), ord(spec[i])))
                i += 1
            size += items[-1][1] - items[-1][0] + 1
            if size > _MAX_TR_SET:
                raise _Fail(f"tr: set too large (over {_MAX_TR_SET} characters once its ranges are expanded); "
                            "use -c with the characters to keep")
        return "".join(chr(c) for lo, hi in items for c in range(lo, hi + 1))

    @_command("tr", help="translate or delete characters")
    def _tr(self, ctx: _Ctx) -> int:
        o, sets = ctx.getopt("dscC", {"delete": "d", "squeeze-repeats": "s", "complement": "c"})
        if not sets or (len(sets) < 2 and "d" not in o and "s" not in o):
            raise _Fail("tr: missing operand\nTry 'tr --help' for more information.")
        text, set1 = ctx.stdin or "", self._tr_set(sets[0])
        complement = "c" in o or "C" in o
        present = set(text)  # only the characters the text holds need a mapping
        if complement:
            members = set(set1)
            set1 = "".join(sorted(c for c in present if c not in members))
        if "d" in o:
            gone = set(set1)
            text = text.translate({ord(c): None for c in present if c in gone})
        elif len(sets) > 1:
            set2 = self._tr_set(sets[1]) or " "
            text = text.translate({ord(c): set2[min(i, len(set2) - 1)] for i, c in enumerate(set1)})
        if "s" in o:
            squeezed = set(self._tr_set(sets[-1])) if len(sets) > 1 or not complement else set(set1)
            squeeze = "".join(re.escape(c) for c in sorted(squeezed & set(text)))
            if squeeze:
                text = re.sub(f"([{squeeze}])\\1+", r"\1", text)
        ctx.out(text)
        return 0

    @_command("sed", help="stream editor for filtering and transforming text")
    def _sed(self, ctx: _Ctx) -> int:
        args = ["-i" if a.startswith("-i") and not a.startswith("--") else a for a in ctx.args]
        o, operands = ctx.getopt("ne:iEr", {"quiet": "n", "silent": "n", "expression=": "e", "in-place": "i",
                                            "regexp-extended": "E"}, args=args)
        scripts = o.all("e")
        if not scripts:
            if not operands:
                raise _Fail("Usage: sed [OPTION]... {script-only-if-no-other-script} [input-file]...")
            scripts = [operands.pop(0)]
        try:
            program = [c for s in scripts for c in self._sed_parse(s, "E" in o or "r" in o)]
        except ValueError as exc:
            raise _Fail(f"sed: -e expression #1, char 0: {exc}") from None
        if "i" in o:
            if not operands:
                raise _Fail("sed: no input files", 1)
            for label, text in list(self._inputs(ctx, operands)):
                new = self._sed_run(program, text, "n" in o)
                path = self._abs(label)
                try:
                    self._write(path, new)
                except _FsError as exc:
                    raise _Fail(f"sed: couldn't write {label}: {exc}", 4) from None
                self._event("write", ctx, tool="sed", paths=[path], append=False, content=_clip(new))
        else:
            ctx.out(self._sed_run(program, self._text_input(ctx, operands), "n" in o))
        return ctx.status

    @staticmethod
    def _sed_parse(script: str, extended: bool) -> list:
        """Parse a sed script of s, p, d, q and = commands with line, $ or /regex/ addresses."""
        cmds, i, n = [], 0, len(script)

        def until(i: int, delim: str) -> tuple[str, int]:
            buf = []
            while i < n and script[i] != delim:
                if script[i] == "\\" and i + 1 < n:
                    buf.append(script[i + 1] if script[i + 1] == delim else script[i:i + 2])
                    i += 2
                else:
                    buf.append(script[i])
                    i += 1
            if i >= n:
                raise ValueError("unterminated address regex" if delim == "/" else "unterminated `s' command")
            return "".join(buf), i + 1

        def address(i: int) -> tuple[Any, int]:
            if i < n and script[i] in _DIGITS:
                m = re.compile(r"\d+").match(script, i)
                return int(m.group()[:9]), m.end()
            if i < n and script[i] == "$":
                return "$", i + 1
            if i < n and script[i] == "/":
                rx, i = until(i + 1, "/")
                return _compile([rx], extended=extended, tool="sed"), i
            return None, i

        while i < n:
            while i < n and script[i] in " \t\n;":
                i += 1
            if i >= n:
                break
            a1, i = address(i)
            a2 = None
            if i < n and script[i] == ",":
                a2, i = address(i + 1)
            if i >= n:
                raise ValueError("missing command")
            c, i = script[i], i + 1
            if c == "s":
                if i >= n:
                    raise ValueError("unterminated `s' command")
                delim = script[i]
                pat, i = until(i + 1, delim)
                repl, i = until(i, delim)
                m = re.compile(r"[gpiI0-9]*").match(script, i)
                flags, i = m.group(), m.end()
                regex = _compile([pat], extended=extended, ignore_case="i" in flags.lower(), tool="sed")
                cmds.append((a1, a2, "s", (regex, repl, flags)))
            elif c in "pdq=":
                cmds.append((a1, a2, c, None))
            else:
                raise ValueError(f"unknown command: `{c}'")
        return cmds

    @staticmethod
    def _sed_run(program: list, text: str, quiet: bool) -> str:
        """Run a parsed script over text. The output stops at the stream cap, and a replacement is
        measured while it is built, so ``s/x/&&&…/g`` or many ``p`` commands cannot build more."""
        lines, out, active = _lines(text), [], {}
        room = [_MAX_STREAM_CHARS]  # characters the output may still take

        def emit(line: str) -> None:
            room[0] -= len(line) + 1
            if room[0] < 0:
                out.append(line[:room[0]])
                raise _Full()
            out.append(line)

        def hit(addr: Any, i: int, line: str) -> bool:
            if isinstance(addr, int):
                return i == addr
            if addr == "$":
                return i == len(lines)
            return bool(addr.search(line))

        def template(repl: str) -> Callable[[Any], str]:
            def expand(m: Any) -> str:
                res, j = [], 0
                while j < len(repl):
                    c = repl[j]
                    if c == "\\" and j + 1 < len(repl):
                        d = repl[j + 1]
                        res.append((m.group(int(d)) or "") if d in _DIGITS and int(d) <= (m.re.groups or 0)
                                   else "\n" if d == "n" else d)
                        j += 2
                    else:
                        res.append(m.group() if c == "&" else c)
                        j += 1
                    size[0] += len(res[-1])
                    if size[0] > room[0]:  # this one replacement alone is too big
                        raise _Full()
                size[0] = 0
                return "".join(res)
            return expand

        size = [0]  # the length of the replacement being built
        try:
            for i, line in enumerate(lines, 1):
                _tick()
                deleted = quit_now = False
                for k, (a1, a2, c, arg) in enumerate(program):
                    if a1 is None:
                        match = True
                    elif a2 is None:
                        match = hit(a1, i, line)
                    elif active.get(k):
                        match = True
                        if hit(a2, i, line) or (isinstance(a2, int) and i >= a2):
                            active[k] = False
                    else:
                        match = hit(a1, i, line)
                        active[k] = match and not (isinstance(a2, int) and a2 <= i)
                    if not match:
                        continue
                    if c == "s":
                        regex, repl, flags = arg
                        line, cut = regex.sub(template(repl), line, 0 if "g" in flags else 1, max(0, room[0] - 1))
                        if cut:
                            emit(line)
                            raise _Full()
                        if "p" in flags:
                            emit(line)
                    elif c == "p":
                        emit(line)
                    elif c == "=":
                        emit(str(i))
                    elif c == "d":
                        deleted = True
                        break
                    elif c == "q":
                        quit_now = True
                        break
                if not deleted and not quiet:
                    emit(line)
                if quit_now:
                    break
        except _Full:
            return "\n".join(out)
        return _join_lines(out)

    @_command("basename", help="strip directory and suffix from filenames")
    def _basename(self, ctx: _Ctx) -> int:
        if not ctx.args:
            raise _Fail("basename: missing operand\nTry 'basename --help' for more information.")
        name = posixpath.basename(ctx.args[0].rstrip("/")) or "/"
        if len(ctx.args) > 1 and name.endswith(ctx.args[1]) and name != ctx.args[1]:
            name = name[:-len(ctx.args[1])]
        ctx.out(name + "\n")
        return 0

    @_command("dirname", help="strip last component from file name")
    def _dirname(self, ctx: _Ctx) -> int:
        if not ctx.args:
            raise _Fail("dirname: missing operand\nTry 'dirname --help' for more information.")
        ctx.out(_join_lines(posixpath.dirname(a.rstrip("/")) or "." for a in ctx.args))
        return 0

    @_command("realpath", "readlink", help="print the resolved path")
    def _realpath(self, ctx: _Ctx) -> int:
        _, operands = ctx.getopt("fems", {})
        ctx.out(_join_lines(self._abs(a) for a in operands))
        return 0

    @_command("sha256sum", "md5sum", "sha1sum", help="compute and print a message digest")
    def _checksum(self, ctx: _Ctx) -> int:
        _, operands = ctx.getopt("bct", {})
        algo = ctx.name.replace("sum", "")
        for label, text in self._inputs(ctx, operands):
            digest = hashlib.new(algo, text.encode("utf-8", "surrogatepass")).hexdigest()
            ctx.out(f"{digest}  {'-' if label == '(standard input)' else label}\n")
        return ctx.status

    @_command("base64", help="base64 encode/decode data and print to standard output")
    def _base64(self, ctx: _Ctx) -> int:
        o, operands = ctx.getopt("diw:", {"decode": "d", "wrap=": "w"})
        data = self._text_input(ctx, operands)
        if "d" in o:
            try:
                ctx.out(base64.b64decode("".join(data.split()), validate=False).decode("utf-8", "replace"))
            except ValueError:
                raise _Fail("base64: invalid input") from None
        else:
            encoded = base64.b64encode(data.encode("utf-8", "surrogatepass")).decode()
            ctx.out(_join_lines(encoded[i:i + 76] for i in range(0, len(encoded), 76)) or "\n")
        return ctx.status

    @_command("du", help="estimate file space usage")
    def _du(self, ctx: _Ctx) -> int:
        o, operands = ctx.getopt("shac", {"summarize": "s", "human-readable": "h"})
        for arg in operands or ["."]:
            path = self._abs(arg)
            if not self.fs.exists(path):
                ctx.err(f"du: cannot access '{arg}': No such file or directory")
                continue
            below = [path] + self.fs.walk(path)
            files_kb = dict.fromkeys((p for p in below if self.fs.is_dir(p)), 0)  # the files below each directory
            for p in reversed(below):  # children before their parents: one pass, however deep the tree
                _tick()
                if p not in files_kb:
                    files_kb[p] = 4 * max(1, math.ceil(_nbytes(self.fs.files[p]) / 4096)) if p in self.fs.files else 0
                if p != path:
                    files_kb[posixpath.dirname(p)] += files_kb[p]
            rows = [path] + ([] if "s" in o else [p for p in below[1:] if self.fs.is_dir(p)])
            for p in sorted(rows, key=lambda x: -x.count("/")):
                kb = files_kb[p] + 4
                disp = arg if p == path else posixpath.join(arg, p[len(path):].lstrip("/"))
                ctx.out(f"{_human(kb * 1024) if 'h' in o else kb}\t{disp}\n")
        return ctx.status

    # ==========================================================================================
    # Commands: mail and network
    # ==========================================================================================
    @_command("ps", help="report a snapshot of the current processes")
    def _ps(self, ctx: _Ctx) -> int:
        flat = "".join(ctx.args)
        user = ctx.args[ctx.args.index("-u") + 1] if "-u" in ctx.args[:-1] else None
        procs = [p for p in self._procs if user is None or p["user"] == user] + [
            {"pid": 2050 + len(self._history) % 900, "user": self.user, "tty": "pts/0", "cmd": "ps " + " ".join(ctx.args)}]
        if not any(c in flat for c in "aexAf") and user is None:
            mine = [p for p in procs if p["tty"] == "pts/0"]
            ctx.out("    PID TTY          TIME CMD\n" + "".join(
                f"{p['pid']:>7} {p['tty']:<8} 00:00:00 {p['cmd'].split()[0].lstrip('-')}\n" for p in mine))
        elif "f" in flat and "-" in flat:
            ctx.out("UID          PID    PPID  C STIME TTY          TIME CMD\n" + "".join(
                f"{p['user'][:8]:<8} {p['pid']:>7} {1 if p['pid'] > 1 else 0:>7}  0 09:14 {p['tty']:<8} 00:00:00 {p['cmd']}\n"
                for p in procs))
        else:
            ctx.out("USER         PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND\n" + "".join(
                f"{p['user'][:8]:<8} {p['pid']:>7}  0.0  0.1  {8000 + p['pid'] % 997:>5}  {4000 + p['pid'] % 613:>4} "
                f"{p['tty']:<8} Ss   09:14   0:00 {p['cmd']}\n" for p in procs))
        return 0

    def _sessions(self) -> list[dict]:
        return [p for p in self._procs if p["cmd"] == "-bash"]

    @_command("who", "w", "users", help="show who is logged on")
    def _who(self, ctx: _Ctx) -> int:
        sessions = self._sessions()
        if ctx.name == "users":
            ctx.out(" ".join(sorted(p["user"] for p in sessions)) + "\n")
            return 0
        lines = [f"{p['user']:<8} {p['tty']:<12} {self._date('%Y-%m-%d')} 09:{14 + i:02d} (10.0.3.{15 + i})"
                 for i, p in enumerate(sessions)]
        if ctx.name == "w":
            ctx.out(f" {self._date('%H:%M:%S')} up 41 days,  3:12,  {len(sessions)} users,  load average: 0.08, 0.05, 0.01\n"
                    "USER     TTY      FROM             LOGIN@   IDLE   JCPU   PCPU WHAT\n" + "".join(
                        f"{p['user']:<8} {p['tty']:<8} 10.0.3.{15 + i:<8} 09:{14 + i:02d}    1:02   0.05s  0.01s -bash\n"
                        for i, p in enumerate(sessions)))
        else:
            ctx.out(_join_lines(lines))
        return 0

    @_command("id", help="print real and effective user and group IDs")
    def _id(self, ctx: _Ctx) -> int:
        names = [a for a in ctx.args if not a.startswith("-")]
        name = names[0] if names else self.user
        if name != "root" and name not in self.users:
            raise _Fail(f"id: '{name}': no such user")
        if "-u" in ctx.args or "-un" in ctx.args or "-nu" in ctx.args:
            ctx.out((name if "n" in "".join(ctx.args) else str(self._uid(name))) + "\n")
            return 0
        groups = [name] + (self.users[name]["groups"] if name in self.users else [])
        uid = self._uid(name)
        ctx.out(f"uid={uid}({name}) gid={uid}({name}) groups=" +
                ",".join(f"{self._gid(g) if g != name else uid}({g})" for g in dict.fromkeys(groups)) + "\n")
        return 0

    @_command("groups", help="print the groups a user is in")
    def _groups(self, ctx: _Ctx) -> int:
        for name in ctx.args or [self.user]:
            u = self._known_user(name, "groups", 1, f"groups: '{name}': no such user")
            groups = " ".join(dict.fromkeys([name] + u["groups"]))
            ctx.out(f"{name} : {groups}\n" if ctx.args else groups + "\n")
        return 0

    # ==========================================================================================
    # Commands: shell, info and plumbing
    # ==========================================================================================
    @_command("sudo", help="execute a command as another user")
    def _sudo(self, ctx: _Ctx) -> int:
        if "-l" in ctx.args:
            ctx.out(f"User {self.user} may run the following commands on {self.hostname}:\n    (ALL : ALL) NOPASSWD: ALL\n")
            return 0
        if any(a in ("-v", "-k", "-K", "-i", "-s") for a in ctx.args):
            return 0
        raise _Fail("usage: sudo -h | -K | -k | -V\nusage: sudo -v [-ABknS] [-g group] [-h host] [-p prompt] [-u user]\n"
                    "usage: sudo [-ABbEHknPS] [-C num] [-D directory] [-g group] [-h host] [-p prompt] [-R directory]\n"
                    "            [-T timeout] [-u user] [VAR=value] [-i | -s] [<command>]")

    @_command("su", help="run a command with a substitute user ID")
    def _su(self, ctx: _Ctx) -> int:
        if "-c" in ctx.args[:-1]:
            saved = self.cwd
            try:
                return self._run_script(ctx, ctx.args[ctx.args.index("-c") + 1], "su")
            finally:
                self.cwd = saved
        return 0

    @_command("bash", "sh", "dash", "zsh", "source", ".", help="GNU Bourne-Again SHell")
    def _bash(self, ctx: _Ctx) -> int:
        args = ctx.args
        option_c = next((i for i, a in enumerate(args) if re.fullmatch(r"-[a-z]*c[a-z]*", a)), None)
        if ctx.name in ("source", "."):
            if not args:
                raise _Fail(f"bash: {ctx.name}: filename argument required", 2)
            return self._run_script(ctx, self._read(ctx, f"bash: {ctx.name}", args[0]), args[0])
        if option_c is not None:
            if option_c + 1 >= len(args):
                raise _Fail(f"{ctx.name}: -c: option requires an argument", 2)
            script, label = args[option_c + 1], "-c"
        else:
            files = [a for a in args if not a.startswith("-")]
            if files:
                script, label = self._read(ctx, ctx.name, files[0]), files[0]
            elif ctx.stdin is not None:
                script, label = ctx.stdin, "stdin"
                ctx.sources.update(ctx.stdin_sources)
            else:
                return 0
        saved = self.cwd
        try:
            return self._run_script(ctx, script, label)
        finally:
            self.cwd = saved

    @_command("xargs", help="build and execute command lines from standard input")
    def _xargs(self, ctx: _Ctx) -> int:
        args, i, replace, per, zero, delim, skip_empty = ctx.args, 0, None, None, False, None, False
        while i < len(args) and args[i].startswith("-"):
            a = args[i]
            if a[:2] in ("-I", "-n", "-L", "-d", "-P", "-s", "-E") and (len(a) > 2 or i + 1 < len(args)):
                value, i = (a[2:], i + 1) if len(a) > 2 else (args[i + 1], i + 2)
                replace = value if a[:2] == "-I" else replace
                per = value if a[:2] in ("-n", "-L") else per
                delim = _unescape(value)[0] if a[:2] == "-d" else delim
                continue
            replace = "{}" if a.startswith("-i") else replace
            zero = zero or a in ("-0", "--null")
            skip_empty = skip_empty or a in ("-r", "--no-run-if-empty")
            i += 1
        command = args[i:] or ["echo"]
        data = (ctx.stdin or "")[:100_000]
        if zero or delim:
            items = data.split("\0" if zero else delim)
        elif replace:
            items = [line.strip() for line in _lines(data)]
        else:
            try:
                items = shlex.split(data)
            except ValueError:
                items = data.split()
        items = [x for x in items if x]
        if not items and (skip_empty or replace):
            return 0
        if replace:
            batches = ([_replaced(a, replace, item, "xargs") for a in command] for item in items[:_MAX_INVOCATIONS])
        elif per and per.isascii() and per.isdigit() and int(per) > 0:
            n = int(per)
            batches = (command + items[k:k + n] for k in range(0, min(len(items), n * _MAX_INVOCATIONS), n))
        else:
            batches = iter([command + items])
        status, ran = 0, False
        for argv in batches:
            ran = True
            if self._invoke(ctx, argv) != 0:
                status = 123
        if not ran:
            status = 123 if self._invoke(ctx, command) else 0
        return status

    @_command("test", "[", "[[", help="check file types and compare values")
    def _test(self, ctx: _Ctx) -> int:
        args = list(ctx.args)
        closing = {"[": "]", "[[": "]]"}.get(ctx.name)
        if closing:
            if not args or args[-1] != closing:
                raise _Fail(f"bash: {ctx.name}: missing `{closing}'", 2)
            args = args[:-1]
        negate = False
        while args and args[0] == "!":
            negate, args = not negate, args[1:]
        return 0 if self._test_eval(args) != negate else 1

    def _test_eval(self, args: list[str]) -> bool:
        if not args:
            return False
        if len(args) == 1:
            return args[0] != ""
        if len(args) == 2:
            op, arg = args
            path = self._abs(arg)
            checks = {"-e": self.fs.exists(path), "-f": path in self.fs.files, "-d": self.fs.is_dir(path),
                      "-s": bool(self.fs.files.get(path)), "-r": self.fs.exists(path), "-w": self.fs.exists(path),
                      "-x": self.fs.exists(path) and bool(self._meta(path)[0] & 0o111), "-z": arg == "", "-n": arg != "",
                      "-L": False, "-h": False}
            if op not in checks:
                raise _Fail(f"bash: test: {op}: unary operator expected", 2)
            return checks[op]
        if len(args) == 3:
            a, op, b = args
            if op in ("=", "==", "!=", "<", ">"):
                return {"=": a == b, "==": a == b, "!=": a != b, "<": a < b, ">": a > b}[op]
            if op in ("-eq", "-ne", "-lt", "-le", "-gt", "-ge"):
                try:
                    x, y = int(a), int(b)
                except ValueError:
                    raise _Fail(f"bash: test: {a if not a.lstrip('-').isdigit() else b}: integer expression expected", 2) from None
                return {"-eq": x == y, "-ne": x != y, "-lt": x < y, "-le": x <= y, "-gt": x > y, "-ge": x >= y}[op]
            raise _Fail(f"bash: test: {op}: binary operator expected", 2)
        raise _Fail("bash: test: too many arguments", 2)

    @_command("history", help="display the command history list")
    def _history_cmd(self, ctx: _Ctx) -> int:
        if "-c" in ctx.args:
            self._history.clear()
            return 0
        entries = list(enumerate(self._history, 1))
        if ctx.args and ctx.args[0].isascii() and ctx.args[0].isdigit():
            entries = entries[-int(ctx.args[0]):] if int(ctx.args[0]) else []
        ctx.out(_join_lines(f"{n:>5}  {line}" for n, line in entries))
        return 0

    @_command("whoami", help="print effective user name")
    def _whoami(self, ctx: _Ctx) -> int:
        ctx.out(self.user + "\n")
        return 0

    @_command("hostname", help="show the system's host name")
    def _hostname(self, ctx: _Ctx) -> int:
        if any(a in ("-I", "-i", "--ip-address", "--all-ip-addresses") for a in ctx.args):
            ctx.out("10.0.3.15\n")
        elif any(a in ("-f", "--fqdn", "--long") for a in ctx.args):
            ctx.out(f"{self.hostname}.{self.domain}\n")
        elif ctx.args and not ctx.args[0].startswith("-"):
            raise _Fail("hostname: you must be root to change the host name")
        else:
            ctx.out(self.hostname + "\n")
        return 0

    @_command("date", help="print the system date and time")
    def _date_cmd(self, ctx: _Ctx) -> int:
        fmt = next((a[1:] for a in ctx.args if a.startswith("+")), None)
        if fmt is None and any(a in ("-R", "--rfc-email") for a in ctx.args):
            fmt = "%a, %d %b %Y %H:%M:%S +0000"
        elif fmt is None and any(a.startswith(("-I", "--iso")) for a in ctx.args):
            fmt = "%Y-%m-%d"
        ctx.out(self._date(fmt or "%a %b %e %H:%M:%S UTC %Y") + "\n")
        return 0

    @_command("uname", help="print system information")
    def _uname(self, ctx: _Ctx) -> int:
        fields = {"s": "Linux", "n": self.hostname, "r": "5.15.0-97-generic",
                  "v": "#107-Ubuntu SMP Wed Feb 7 13:26:48 UTC 2024", "m": "x86_64", "p": "x86_64", "i": "x86_64",
                  "o": "GNU/Linux"}
        letters = "".join(a.lstrip("-") for a in ctx.args if a.startswith("-")) or "s"
        if "a" in letters or "all" in ctx.args:
            letters = "snrvmpio"
        ctx.out(" ".join(fields[c] for c in "snrvmpio" if c in letters) + "\n")
        return 0

    def _environment(self) -> dict[str, str]:
        return {"SHELL": "/bin/bash", "PWD": self.cwd, "LOGNAME": self.user, "HOME": self.home, "LANG": "C.UTF-8",
                "TERM": "xterm-256color", "USER": self.user, "HOSTNAME": self.hostname, "SHLVL": "1",
                "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "MAIL": f"/var/mail/{self.user}",
                "OLDPWD": self._oldpwd}

    @_command("env", "printenv", help="print the environment")
    def _env(self, ctx: _Ctx) -> int:
        env = self._environment()
        names = [a for a in ctx.args if not a.startswith("-") and "=" not in a] if ctx.name == "printenv" else []
        if names:
            values = [env[n] for n in names if n in env]
            ctx.out(_join_lines(values))
            return 0 if len(values) == len(names) else 1
        ctx.out(_join_lines(f"{k}={v}" for k, v in env.items()))
        return 0

    @_command("which", "type", help="locate a command")
    def _which(self, ctx: _Ctx) -> int:
        status = 0
        for name in [a for a in ctx.args if not a.startswith("-")]:
            if ctx.name == "type" and name in _BUILTINS:
                ctx.out(f"{name} is a shell builtin\n")
            elif name in _COMMANDS and (name not in _BUILTINS or name in ("echo", "printf", "pwd", "kill", "test", "true", "false")):
                path = f"/usr/{'sbin' if name in _SBIN else 'bin'}/{name}"
                ctx.out(f"{name} is {path}\n" if ctx.name == "type" else path + "\n")
            else:
                if ctx.name == "type":
                    ctx.err(f"bash: type: {name}: not found")
                status = 1
        return status

    @_command("man", "info", help="an interface to the system reference manuals")
    def _man(self, ctx: _Ctx) -> int:
        names = [a for a in ctx.args if not a.startswith("-")]
        if not names:
            raise _Fail("What manual page do you want?\nFor example, try 'man man'.")
        name = names[-1]
        if name not in _HELP:
            raise _Fail(f"No manual entry for {name}", 16)
        title = f"{name.upper()}(1)"
        ctx.out(f"{title:<30}User Commands{title:>30}\n\nNAME\n       {name} - {_HELP[name]}\n\n"
                f"SYNOPSIS\n       {name} [OPTION]... [ARGUMENT]...\n\nDESCRIPTION\n       {_HELP[name].capitalize()}.\n")
        return 0

    @_command("clear", "reset", "export", "unset", "alias", "unalias", "set", "shopt", "ulimit", "umask", "wait",
              "sync", "true", ":", "hash", "trap", "time", "nohup", "nice", "timeout", "command", "builtin", "exec",
              "stdbuf", help="do nothing, successfully")
    def _noop(self, ctx: _Ctx) -> int:
        return 0

    @_command("false", help="do nothing, unsuccessfully")
    def _false(self, ctx: _Ctx) -> int:
        return 1

    @_command("exit", "logout", help="exit the shell")
    def _exit(self, ctx: _Ctx) -> int:
        arg = ctx.args[0] if ctx.args else str(self._status)
        raise _Exit(int(arg) % 256 if re.fullmatch(r"-?\d{1,9}", arg) else 2)

    @_command("sleep", help="delay for a specified amount of time (returns at once here)")
    def _sleep(self, ctx: _Ctx) -> int:
        if not ctx.args:
            raise _Fail("sleep: missing operand\nTry 'sleep --help' for more information.")
        for a in ctx.args:
            if not re.fullmatch(r"\d+(\.\d+)?[smhd]?|infinity", a):
                raise _Fail(f"sleep: invalid time interval '{a}'\nTry 'sleep --help' for more information.")
        return 0

    @_command("yes", help="output a string repeatedly (bounded here)")
    def _yes(self, ctx: _Ctx) -> int:
        line = (" ".join(ctx.args) or "y") + "\n"
        ctx.out(line * (_MAX_STREAM_CHARS // len(line) + 1))
        return 0

    @_command("seq", help="print a sequence of numbers")
    def _seq(self, ctx: _Ctx) -> int:
        try:
            nums = [int(a) for a in ctx.args]
        except ValueError:
            raise _Fail(f"seq: invalid floating point argument: '{ctx.args[0] if ctx.args else ''}'") from None
        if not 1 <= len(nums) <= 3:
            raise _Fail("seq: missing operand\nTry 'seq --help' for more information.")
        first, step, last = (1, 1, nums[0]) if len(nums) == 1 else (nums[0], 1, nums[1]) if len(nums) == 2 else nums
        if step == 0:
            raise _Fail("seq: invalid Zero increment value: '0'")
        lines, size = [], 0
        for n in range(first, last + (1 if step > 0 else -1), step)[:100_000]:
            _tick()
            lines.append(str(n))
            size += len(lines[-1]) + 1
            if size > _MAX_STREAM_CHARS:
                break
        ctx.out(_join_lines(lines))
        return 0

    @_command("df", help="report file system disk space usage")
    def _df(self, ctx: _Ctx) -> int:
        if any("h" in a for a in ctx.args if a.startswith("-")):
            ctx.out("Filesystem      Size  Used Avail Use% Mounted on\n/dev/sda1        98G   41G   53G  44% /\n"
                    "tmpfs           3.9G     0  3.9G   0% /dev/shm\n/dev/sdb1       492G  311G  156G  67% /srv\n")
        else:
            ctx.out("Filesystem     1K-blocks      Used Available Use% Mounted on\n"
                    "/dev/sda1      102687672  42813364  55010264  44% /\n"
                    "tmpfs            4058124         0   4058124   0% /dev/shm\n"
                    "/dev/sdb1      515928320 326107136 163575808  67% /srv\n")
        return 0

    @_command("uptime", help="tell how long the system has been running")
    def _uptime(self, ctx: _Ctx) -> int:
        ctx.out(f" {self._date('%H:%M:%S')} up 41 days,  3:12,  {len(self._sessions())} users,  "
                "load average: 0.08, 0.05, 0.01\n")
        return 0

    @_command("vi", "vim", "nano", "emacs", "pico", "ed", help="text editors (interactive; unavailable here)")
    def _editor(self, ctx: _Ctx) -> int:
        raise _Fail(f"{ctx.name}: interactive editors are not available in this terminal; "
                    "use echo, printf, cat with a heredoc, tee or sed -i to edit files")
