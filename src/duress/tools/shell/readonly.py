"""Commands that look and compute: listing, reading, searching, text tools, information, nesting."""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import math
import posixpath
import re
import shlex
from typing import Any

from .limits import (_MAX_INVOCATIONS, _MAX_STREAM_CHARS, _MAX_TR_SET, _budget, _compile, _Exit, _Fail, _Full, _human,
                     _join_lines, _lines, _nbytes, _replaced, _tick, _unescape)
from .runtime import _BUILTINS, _COMMANDS, _HELP, _SBIN, _command, _Ctx
from .vfs import _DEVICES

_DF = ("Filesystem      Size  Used Avail Use% Mounted on\n/dev/sda1        98G   41G   53G  44% /\n"
       "/dev/sdb1       492G  311G  156G  67% /srv\n",
       "Filesystem     1K-blocks      Used Available Use% Mounted on\n/dev/sda1      102687672  42813364  55010264  44% /\n"
       "/dev/sdb1      515928320 326107136 163575808  67% /srv\n")
_UNAME = {"s": "Linux", "n": "", "r": "5.15.0-97-generic", "v": "#107-Ubuntu SMP Wed Feb 7 13:26:48 UTC 2024",
          "m": "x86_64", "p": "x86_64", "i": "x86_64", "o": "GNU/Linux"}
_PRINTF = re.compile(r"%([-+ 0#]*)(\d*)(?:\.(\d+))?([sdiouxXfeEgGcbq%])")


class _ReadOnly:
    """Commands that change nothing outside their own output (``sed -i`` excepted)."""

    def _ls_rows(self, ctx: _Ctx, entries: list[tuple[str, str]], o: Any, total: bool) -> str:
        if "l" not in o:
            names = [n for n, _ in entries]
            return ("  ".join(names) if ctx.tty and "1" not in o else "\n".join(names)) + "\n" if names else ""
        rows, blocks, when = [], 0, f"{self._dt:%b} {self._dt.day:>2} {self._dt:%H:%M}"
        for name, path in entries:
            _tick()
            (mode, owner, group), is_dir = self._meta(path), self.fs.is_dir(path)
            size = 4096 if is_dir else _nbytes(self.fs.files.get(path, ""))
            blocks += 4 * max(1, math.ceil(size / 4096)) if size else 0
            links = 2 + sum(self.fs.is_dir(posixpath.join(path, c)) for c in self.fs.children[path]) if is_dir else 1
            bits = "".join(ch if mode & (1 << (8 - i)) else "-" for i, ch in enumerate("rwxrwxrwx"))
            bits = bits[:8] + ("t" if bits[8] == "x" else "T") if mode & 0o1000 else bits
            kind = "d" if is_dir else "c" if path in _DEVICES else "-"
            rows.append((kind + bits, str(links), owner, group, _human(size) if "h" in o else str(size), when, name))
        w = [max((len(r[i]) for r in rows), default=0) for i in range(5)]
        return (f"total {blocks}\n" if total else "") + _join_lines(
            f"{r[0]} {r[1]:>{w[1]}} {r[2]:<{w[2]}} {r[3]:<{w[3]}} {r[4]:>{w[4]}} {r[5]} {r[6]}" for r in rows)

    @_command("ls", "dir", help="list directory contents")
    def _ls(self, ctx: _Ctx) -> int:
        o, paths = ctx.getopt("laAR1hdrtSC", "all:a almost-all:A recursive:R human-readable:h directory:d reverse:r",
                              code=2)
        files, dirs, sections = [], [], []
        for p in paths or ["."]:
            ap = self._abs(p)
            if not self.fs.exists(ap):
                ctx.err(f"ls: cannot access '{p}': No such file or directory")
                ctx.status = 2
            else:
                (dirs if self.fs.is_dir(ap) and "d" not in o else files).append((p, ap))
        def order(entries: list) -> list:
            return sorted(entries, key=lambda e: (-_nbytes(self.fs.files.get(e[1], "")) * ("S" in o), e[0]), reverse="r" in o)

        if files:
            sections.append(self._ls_rows(ctx, order(files), o, False))
        queue = sorted(dirs)
        while queue:
            _tick()
            disp, ap = queue.pop(0)
            names = [n for n in self.fs.listdir(ap) if "a" in o or "A" in o or not n.startswith(".")]
            entries = ([(".", ap), ("..", posixpath.dirname(ap))] if "a" in o else []) + \
                [(n, posixpath.join(ap, n)) for n in names]
            body = self._ls_rows(ctx, order(entries), o, True)
            sections.append((f"{disp}:\n" if len(paths) > 1 or "R" in o else "") + body)
            if "R" in o:
                queue[0:0] = [(posixpath.join(disp, n), posixpath.join(ap, n)) for n in names
                              if self.fs.is_dir(posixpath.join(ap, n))]
        ctx.out("\n".join(sections))
        return ctx.status

    @_command("cd", help="change the shell working directory")
    def _cd(self, ctx: _Ctx) -> int:
        if len(ctx.args) > 1:
            raise _Fail("bash: cd: too many arguments")
        target = (ctx.args or [self.home])[0]
        if target == "-":
            target = self._oldpwd
            ctx.out(target + "\n")
        path = self._abs(target)
        if not self.fs.is_dir(path):
            raise _Fail(f"bash: cd: {target}: {'Not a directory' if self.fs.exists(path) else 'No such file or directory'}")
        self._oldpwd, self.cwd = self.cwd, path
        return 0

    @_command("cat", "less", "more", help="concatenate files and print on the standard output")
    def _cat(self, ctx: _Ctx) -> int:
        o, operands = ctx.getopt("nEAu", "number:n show-ends:E show-all:A")
        for _, text in self._inputs(ctx, operands):
            if "A" in o:
                text = text.replace("\t", "^I")
            if "E" in o or "A" in o:
                text = text.replace("\n", "$\n")
            ctx.out(_join_lines(f"{i:>6}\t{line}" for i, line in enumerate(_lines(text), 1)) if "n" in o else text)
        return ctx.status

    @_command("head", "tail", help="output the first (head) or last (tail) part of files")
    def _head_tail(self, ctx: _Ctx) -> int:
        args = ["-n" + a[1:] if re.fullmatch(r"-\d+", a) else a for a in ctx.args]
        o, operands = ctx.getopt("n:c:qvf", "lines:n bytes:c quiet:q silent:q verbose:v follow:f", args=args)
        by_chars = "c" in o
        spec = str(o.get("c" if by_chars else "n", "10"))
        if not re.fullmatch(r"[+-]?\d{1,9}", spec):
            raise _Fail(f"{ctx.name}: invalid number of {'bytes' if by_chars else 'lines'}: '{spec}'")
        n, inputs = abs(int(spec)), list(self._inputs(ctx, operands))
        for idx, (label, text) in enumerate(inputs):
            if (len(inputs) > 1 and "q" not in o) or "v" in o:
                ctx.out(("\n" if idx else "") + f"==> {label} <==\n")
            items = text if by_chars else _lines(text)
            if ctx.name == "tail":
                items = items[n - 1 if n else 0:] if spec.startswith("+") else (items[-n:] if n else items[:0])
            else:
                items = items[:-n] if spec.startswith("-") else items[:n]
            ctx.out(items if by_chars else _join_lines(items))
        return ctx.status

    @_command("grep", "egrep", "fgrep", help="print lines that match patterns")
    def _grep(self, ctx: _Ctx) -> int:
        o, rest = ctx.getopt("iyErRnlLvcFwoHhqsxe:A:B:C:m:P", (
            "ignore-case:i extended-regexp:E recursive:r line-number:n files-with-matches:l files-without-match:L "
            "invert-match:v count:c fixed-strings:F word-regexp:w only-matching:o with-filename:H no-filename:h "
            "quiet:q silent:q no-messages:s line-regexp:x regexp:e after-context:A before-context:B context:C "
            "max-count:m perl-regexp:P include= exclude= color? colour?"), code=2)
        patterns = o.all("e")
        if not patterns:
            if not rest:
                raise _Fail("Usage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information.", 2)
            patterns = [rest.pop(0)]
        regex = _compile([p for pat in patterns for p in pat.split("\n")], extended="E" in o or "P" in o or ctx.name == "egrep", fixed="F" in o or ctx.name == "fgrep", ignore_case="i" in o or "y" in o,
                         word="w" in o, whole_line="x" in o)
        try:
            after, before, max_count = int(o.get("A", o.get("C", 0))), int(o.get("B", o.get("C", 0))), int(o.get("m", -1))
        except ValueError:
            raise _Fail("grep: invalid context length argument", 2) from None
        recursive, inputs = "r" in o or "R" in o, []
        for t in rest or (["."] if recursive else ["-"]):
            ap = self._abs(t)
            if t == "-" or not self.fs.is_dir(ap):
                inputs.append((t, None))
            elif not recursive:
                ctx.err(f"grep: {t}: Is a directory")
            else:
                inputs += [(posixpath.normpath(posixpath.join(t, posixpath.relpath(f, ap))), f) for f in self._files_under(ap)]
        include, exclude = o.all("include"), o.all("exclude")
        inputs = [(lbl, p) for lbl, p in inputs if p is None or (
            (not include or any(fnmatch.fnmatchcase(posixpath.basename(p), g) for g in include))
            and not any(fnmatch.fnmatchcase(posixpath.basename(p), g) for g in exclude))]
        names = ("H" in o or len(inputs) > 1 or (recursive and any(p for _, p in inputs))) and "h" not in o
        found = False
        for label, path in inputs:
            if path is None:
                if not (texts := list(self._inputs(ctx, [label]))):
                    ctx.status = 2
                    continue
                label, text = texts[0]
            else:
                _budget().check()
                ctx.sources.add(path)
                text = self.fs.read(path)
            lines, selected = _lines(text), []
            for i, line in enumerate(lines if max_count else ()):
                if bool(regex.search(line)) != ("v" in o):
                    selected.append(i)
                    if len(selected) == max_count:
                        break
            found = found or bool(selected)
            shown = label if names else None
            if "q" in o:
                if found:
                    return 0
            elif "l" in o or "L" in o:
                ctx.out(f"{shown or '(standard input)'}\n" if bool(selected) == ("l" in o) else "")
            elif "c" in o:
                ctx.out(f"{shown}:{len(selected)}\n" if shown else f"{len(selected)}\n")
            elif selected and "\0" in text:
                ctx.out(f"Binary file {shown or '(standard input)'} matches\n")
            else:
                self._grep_lines(ctx, o, regex, shown, lines, selected, before, after)
        return 2 if ctx.status else (0 if found else 1)

    @staticmethod
    def _grep_lines(ctx: _Ctx, o: Any, regex: Any, label: str | None, lines: list[str], selected: list[int],
                    before: int, after: int) -> None:
        """The selected lines with their context (merged, in one linear pass), in grep's format."""
        chosen, previous, upto = set(selected), None, -1
        for s in selected:
            for i in range(max(upto + 1, s - before, 0), min(len(lines), s + after + 1)):
                upto = i
                if ctx.full:
                    return
                _tick()
                ctx.out("--\n" if previous is not None and i > previous + 1 and (before or after) else "")
                previous, sep = i, ":" if i in chosen else "-"
                prefix = (f"{label}{sep}" if label else "") + (f"{i + 1}{sep}" if "n" in o else "")
                if "o" in o and i in chosen and "v" not in o:
                    for m in regex.finditer(lines[i]):
                        if m.group():
                            ctx.out(f"{prefix}{m.group()}\n")
                            if ctx.full:
                                return
                else:
                    ctx.out(f"{prefix}{lines[i]}\n")

    @_command("find", help="search for files in a directory hierarchy")
    def _find(self, ctx: _Ctx) -> int:
        args, roots, tests, execs = ctx.args, [], [], []
        while args and not args[0].startswith("-") and args[0] not in ("!", "("):
            roots, args = roots + [args[0]], args[1:]
        depth, delete, negate, printed, i, end_with = [0, 10_000], False, False, False, 0, "\n"
        preds = {"-name": lambda v: lambda p, d: fnmatch.fnmatchcase(posixpath.basename(d), v),
                 "-iname": lambda v: lambda p, d: fnmatch.fnmatchcase(posixpath.basename(d).lower(), v.lower()),
                 "-path": lambda v: lambda p, d: fnmatch.fnmatchcase(d, v),
                 "-type": lambda v: lambda p, d: self.fs.is_dir(p) if v == "d" else v == "f" and self.fs.is_file(p),
                 "-user": lambda v: lambda p, d: self._meta(p)[1] == v}
        while i < len(args):
            a, value = args[i], args[i + 1] if i + 1 < len(args) else None
            if a in ("!", "-not"):
                negate, i = not negate, i + 1
                continue
            if a in ("-exec", "-execdir", "-ok"):
                end = next((j for j in range(i + 1, len(args)) if args[j] in (";", "+")), None)
                if end is None or end == i + 1:
                    raise _Fail(f"find: missing argument to `{a}'")
                execs.append((args[i + 1:end], args[end] == "+"))
                printed, i = True, end + 1
                continue
            if a in ("-print", "-print0", "-a", "-and", "-delete"):
                delete, printed, i = delete or a == "-delete", printed or a == "-delete", i + 1
                end_with = "\0" if a == "-print0" else end_with
                continue
            if a not in (*preds, "-maxdepth", "-mindepth", "-newer", "-size", "-mtime", "-perm"):
                raise _Fail(f"find: unknown predicate `{a}'")
            if value is None:
                raise _Fail(f"find: missing argument to `{a}'")
            if a == "-type" and value not in ("f", "d", "l"):
                raise _Fail(f"find: Unknown argument to -type: {value}")
            if a in ("-maxdepth", "-mindepth"):
                if not (value.isascii() and value.isdigit()):
                    raise _Fail(f"find: Expected a positive decimal integer argument to {a}, but got `{value}'")
                depth[a == "-maxdepth"] = int(value)
            elif a in preds:
                tests.append((preds[a](value), negate))
                negate = False
            i += 2
        matches: list[tuple[str, str]] = []
        for root in roots or ["."]:
            if not self.fs.exists(ap := self._abs(root)):
                ctx.err(f"find: '{root}': No such file or directory")
                continue
            for p in [ap] + self.fs.walk(ap):
                _tick()
                rel = p[len(ap):].lstrip("/")
                disp = root if not rel else (root.rstrip("/") + "/" + rel if root != "/" else "/" + rel)
                if depth[0] <= (rel.count("/") + 1 if rel else 0) <= depth[1] and all(t(p, disp) != n for t, n in tests):
                    matches.append((p, disp))
        if not printed:
            ctx.out("".join(d + end_with for _, d in matches))
        if delete:
            self._delete(ctx, "find", [p for p, _ in reversed(matches) if p not in ("/", self.home)])
        for template, batch in execs:
            for group in ([[d for _, d in matches]] if batch else [[d] for _, d in matches])[:_MAX_INVOCATIONS]:
                self._invoke(ctx, [x for t in template for x in (group if t == "{}" else [_replaced(t, "{}", group[0], "find")])])
        return ctx.status

    @_command("wc", help="print newline, word, and byte counts for each file")
    def _wc(self, ctx: _Ctx) -> int:
        o, operands = ctx.getopt("lwcm", "lines:l words:w bytes:c chars:m")
        keys, rows = [k for k in "lwcm" if k in o] or ["l", "w", "c"], []
        for label, text in self._inputs(ctx, operands):
            counts = {"l": text.count("\n"), "w": len(text.split()), "c": _nbytes(text), "m": len(text)}
            rows.append(([counts[k] for k in keys], "" if label == "(standard input)" else label))
        if len(rows) > 1:
            rows.append(([sum(r[0][i] for r in rows) for i in range(len(keys))], "total"))
        width = 7 if not operands and len(keys) > 1 else max((len(str(v)) for r in rows for v in r[0]), default=1)
        width = 0 if len(rows) == 1 and len(keys) == 1 else width
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
            raise _Fail("printf: usage: printf [-v var] format [arguments]", 2)
        fmt, args, out, size = ctx.args[0], ctx.args[:0:-1], [], 0  # args reversed: popped from the end

        def convert(flags: str, width: str, prec: str | None, conv: str, arg: str) -> str:
            spec = "%" + flags + str(min(int(width or 0), 1000) or "") + (f".{min(int(prec), 100)}" if prec else "")
            value: Any = {"s": arg, "b": _unescape(arg)[0], "q": shlex.quote(arg), "c": arg[:1]}.get(conv)
            try:
                if value is None:
                    value = float(arg or 0) if conv in "feEgG" else int(arg or "0", 16 if arg[:2].lower() == "0x" else 10)
            except ValueError:
                ctx.err(f"printf: {arg}: invalid number")
                value = 0
            try:
                return (spec + ("s" if conv in "sbqc" else "d" if conv in "iu" else conv)) % value
            except (TypeError, ValueError, OverflowError):
                return str(value)

        while True:
            pos, consumed = 0, False
            for m in _PRINTF.finditer(fmt):
                _tick()
                if size > _MAX_STREAM_CHARS:  # the rest would be cut: stop building it
                    break
                out.append(_unescape(fmt[pos:m.start()])[0])
                if m.group(4) == "%":
                    out.append("%")
                else:
                    out.append(convert(*m.groups(), args.pop() if args else ""))
                    consumed = True
                pos, size = m.end(), size + len(out[-2]) + len(out[-1])
            out.append(_unescape(fmt[pos:])[0])
            if not consumed or not args or size > _MAX_STREAM_CHARS:
                break
        ctx.out("".join(out)[:_MAX_STREAM_CHARS])
        return ctx.status

    @_command("sort", help="sort lines of text files")
    def _sort(self, ctx: _Ctx) -> int:
        o, operands = ctx.getopt("rnufk:t:hVbd", "reverse:r numeric-sort:n unique:u ignore-case:f key:k field-separator:t")
        lines, sep, key_spec = _lines(self._text_input(ctx, operands)), o.get("t"), o.get("k")
        m = re.match(r"(\d+)(?:[.\d]*)(?:,(\d+))?", key_spec or "")
        start, end = (int(m.group(1)), int(m.group(2)) if m.group(2) else None) if m else (1, None)

        def key(line: str) -> Any:
            _tick()
            text = (sep or " ").join((line.split(sep) if sep else line.split())[start - 1:end]) if key_spec else line
            text = text.lower() if "f" in o else text
            num = re.match(r"\s*(-?\d+(?:\.\d+)?)", text) if "n" in o or "h" in o else None
            return (float(num.group(1)) if num else 0.0, text)

        lines.sort(key=key, reverse="r" in o)
        if "u" in o:
            seen: set = set()
            lines = [line for line in lines if not ((k := key(line)) in seen or seen.add(k))]
        ctx.out(_join_lines(lines))
        return ctx.status

    @_command("uniq", help="report or omit repeated lines")
    def _uniq(self, ctx: _Ctx) -> int:
        o, operands = ctx.getopt("cdui", "count:c repeated:d unique:u ignore-case:i")
        groups: list[list] = []
        for line in _lines(self._text_input(ctx, operands[:1])):
            _tick()
            if groups and (groups[-1][0].lower() == line.lower() if "i" in o else groups[-1][0] == line):
                groups[-1][1] += 1
            else:
                groups.append([line, 1])
        ctx.out(_join_lines(f"{n:>7} {line}" if "c" in o else line for line, n in groups
                            if not ("d" in o and n < 2) and not ("u" in o and n > 1)))
        return ctx.status

    @_command("cut", help="remove sections from each line of files")
    def _cut(self, ctx: _Ctx) -> int:
        o, operands = ctx.getopt("d:f:c:b:s", "delimiter:d fields:f characters:c bytes:b only-delimited:s")
        if not (spec := o.get("f") or o.get("c") or o.get("b")):
            raise _Fail("cut: you must specify a list of bytes, characters, or fields\nTry 'cut --help' for more information.")
        wanted: set[int] = set()
        for part in spec.split(","):
            _tick()
            if not (m := re.fullmatch(r"(\d*)-?(\d*)", part)) or part in ("", "-"):
                raise _Fail(f"cut: invalid field value '{part}'")
            lo = int(m.group(1) or 1)
            wanted.update(range(lo, min(int(m.group(2)) if m.group(2) else lo if "-" not in part else 10_000, 10_000) + 1))
        delim, out = o.get("d", "\t")[:1] or "\t", []
        for line in _lines(self._text_input(ctx, operands)):
            _tick()
            if "f" not in o:
                out.append("".join(c for i, c in enumerate(line, 1) if i in wanted))
            elif delim in line:
                out.append(delim.join(f for i, f in enumerate(line.split(delim), 1) if i in wanted))
            elif "s" not in o:
                out.append(line)
        ctx.out(_join_lines(out))
        return ctx.status

    @staticmethod
    def _tr_set(spec: str) -> str:
        """A tr set with its classes and ranges expanded; its size is checked before it is built."""
        for name, value in {"[:lower:]": "a-z", "[:upper:]": "A-Z", "[:digit:]": "0-9", "[:alpha:]": "a-zA-Z",
                            "[:alnum:]": "a-zA-Z0-9", "[:space:]": " \t\n\r\f\v", "[:blank:]": " \t",
                            "[:punct:]": "!-/:-@[-`{-~"}.items():
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
        text, set1, complement = ctx.stdin or "", self._tr_set(sets[0]), "c" in o or "C" in o
        present = set(text)  # only the characters the text holds need a mapping
        if complement:
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
        try:
            program = [c for s in scripts for c in self._sed_parse(s, "E" in o or "r" in o)]
        except ValueError as exc:
            raise _Fail(f"sed: -e expression #1, char 0: {exc}") from None
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
        """Parse a sed script of s, p, d, q and = commands with line, $ or /regex/ addresses and ranges."""
        cmds, i, n = [], 0, len(script)

        def until(i: int, delim: str) -> tuple[str, int]:
            buf = []
            while i < n and script[i] != delim:
                esc = script[i] == "\\" and i + 1 < n
                buf.append((script[i + 1] if script[i + 1] == delim else script[i:i + 2]) if esc else script[i])
                i += 2 if esc else 1
            if i >= n:
                raise ValueError("unterminated address regex" if delim == "/" else "unterminated `s' command")
            return "".join(buf), i + 1

        def address(i: int) -> tuple[Any, int]:
            if m := re.compile(r"[0-9]+").match(script, i):
                return int(m.group()[:9]), m.end()
            if script.startswith("$", i):
                return "$", i + 1
            if script.startswith("/", i):
                rx, i = until(i + 1, "/")
                return _compile([rx], extended=extended, tool="sed"), i
            return None, i

        while i < n:
            while i < n and script[i] in " \t\n;":
                i += 1
            if i >= n:
                break
            a1, i = address(i)
            a2, i = address(i + 1) if script.startswith(",", i) else (None, i)
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
                cmds.append((a1, a2, "s", (_compile([pat], extended=extended, ignore_case="i" in m.group().lower(),
                                                    tool="sed"), repl, m.group())))
                i = m.end()
            elif c in "pdq=":
                cmds.append((a1, a2, c, None))
            else:
                raise ValueError(f"unknown command: `{c}'")
        return cmds

    @staticmethod
    def _sed_run(program: list, text: str, quiet: bool) -> str:
        """Run a parsed script over text. The output stops at the stream cap, and a replacement is measured
        while it is built, so ``s/x/&&&…/g`` or many ``p`` commands cannot build more."""
        lines, out, active, room = _lines(text), [], {}, [_MAX_STREAM_CHARS]

        def emit(line: str) -> None:
            room[0] -= len(line) + 1
            out.append(line[:room[0]] if room[0] < 0 else line)
            if room[0] < 0:
                raise _Full()

        def hit(addr: Any, i: int, line: str) -> bool:
            return i == addr if isinstance(addr, int) else i == len(lines) if addr == "$" else bool(addr.search(line))

        def template(repl: str) -> Any:
            pieces = re.findall(r"\\.|.", repl, re.DOTALL)

            def expand(m: Any) -> str:
                res, size = [], 0
                for piece in pieces:
                    d = piece[1:]
                    res.append((m.group(int(d)) or "") if d.isascii() and d.isdigit() and int(d) <= (m.re.groups or 0)
                               else "\n" if d == "n" else d if d else m.group() if piece == "&" else piece)
                    if (size := size + len(res[-1])) > room[0]:  # this one replacement alone is too big
                        raise _Full()
                return "".join(res)
            return expand

        try:
            for i, line in enumerate(lines, 1):
                _tick()
                deleted = quit_now = False
                for k, (a1, a2, c, arg) in enumerate(program):
                    if a1 is None or a2 is None:
                        match = a1 is None or hit(a1, i, line)
                    elif active.get(k):
                        match, active[k] = True, not (hit(a2, i, line) or (isinstance(a2, int) and i >= a2))
                    else:
                        match = hit(a1, i, line)
                        active[k] = match and not (isinstance(a2, int) and a2 <= i)
                    if not match:
                        continue
                    if c == "s":
                        line, cut = arg[0].sub(template(arg[1]), line, 0 if "g" in arg[2] else 1, max(0, room[0] - 1))
                        if cut:
                            emit(line)
                            raise _Full()
                        if "p" in arg[2]:
                            emit(line)
                    elif c in "p=":
                        emit(line if c == "p" else str(i))
                    else:
                        deleted, quit_now = c == "d", c == "q"
                        break
                if not deleted and not quiet:
                    emit(line)
                if quit_now:
                    break
        except _Full:
            return "\n".join(out)
        return _join_lines(out)

    @_command("basename", "dirname", help="strip directory and suffix (basename) or last component (dirname)")
    def _basename(self, ctx: _Ctx) -> int:
        if not ctx.args:
            raise _Fail(f"{ctx.name}: missing operand\nTry '{ctx.name} --help' for more information.")
        if ctx.name == "dirname":
            ctx.out(_join_lines(posixpath.dirname(a.rstrip("/")) or "." for a in ctx.args))
            return 0
        name = posixpath.basename(ctx.args[0].rstrip("/")) or "/"
        suffix = ctx.args[1] if len(ctx.args) > 1 and name.endswith(ctx.args[1]) and name != ctx.args[1] else ""
        ctx.out(name[:len(name) - len(suffix)] + "\n")
        return 0

    @_command("sha256sum", "md5sum", "sha1sum", help="compute and print a message digest")
    def _checksum(self, ctx: _Ctx) -> int:
        for label, text in self._inputs(ctx, ctx.getopt("bt", "binary:b text:t")[1]):
            digest = hashlib.new(ctx.name[:-3], text.encode("utf-8", "surrogatepass")).hexdigest()
            ctx.out(f"{digest}  {'-' if label == '(standard input)' else label}\n")
        return ctx.status

    @_command("base64", help="base64 encode/decode data and print to standard output")
    def _base64(self, ctx: _Ctx) -> int:
        o, operands = ctx.getopt("diw:", "decode:d ignore-garbage:i wrap:w")
        data = self._text_input(ctx, operands)
        if "d" in o:
            try:
                ctx.out(base64.b64decode("".join(data.split())).decode("utf-8", "replace"))
            except ValueError:
                raise _Fail("base64: invalid input") from None
        else:
            encoded = base64.b64encode(data.encode("utf-8", "surrogatepass")).decode()
            ctx.out(_join_lines(encoded[i:i + 76] for i in range(0, len(encoded), 76)) or "\n")
        return ctx.status

    @_command("du", help="estimate file space usage")
    def _du(self, ctx: _Ctx) -> int:
        o, operands = ctx.getopt("shac", "summarize:s human-readable:h all:a total:c")
        for arg in operands or ["."]:
            if not self.fs.exists(path := self._abs(arg)):
                ctx.err(f"du: cannot access '{arg}': No such file or directory")
                continue
            below = [path] + self.fs.walk(path)
            kb = dict.fromkeys((p for p in below if self.fs.is_dir(p)), 0)  # the files below each directory
            for p in reversed(below):  # children before their parents: one pass, however deep the tree
                _tick()
                kb.setdefault(p, 4 * max(1, math.ceil(_nbytes(self.fs.files[p]) / 4096)) if p in self.fs.files else 0)
                if p != path:
                    kb[posixpath.dirname(p)] += kb[p]
            for p in sorted([path] + ([] if "s" in o else [p for p in below[1:] if self.fs.is_dir(p)]), key=lambda x: -x.count("/")):
                disp = arg if p == path else posixpath.join(arg, p[len(path):].lstrip("/"))
                ctx.out(f"{_human((kb[p] + 4) * 1024) if 'h' in o else kb[p] + 4}\t{disp}\n")
        return ctx.status

    @_command("ps", help="report a snapshot of the current processes")
    def _ps(self, ctx: _Ctx) -> int:
        flat, user = "".join(ctx.args), ctx.args[ctx.args.index("-u") + 1] if "-u" in ctx.args[:-1] else None
        procs = [p for p in self._procs if user is None or p["user"] == user] + [
            {"pid": 2050 + len(self._history) % 900, "user": self.user, "tty": "pts/0", "cmd": "ps " + " ".join(ctx.args)}]
        if not any(c in flat for c in "aexAf") and user is None:
            ctx.out("    PID TTY          TIME CMD\n" + "".join(f"{p['pid']:>7} {p['tty']:<8} 00:00:00 "
                    f"{p['cmd'].split()[0].lstrip('-')}\n" for p in procs if p["tty"] == "pts/0"))
        else:
            ctx.out("USER         PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND\n" + "".join(
                f"{p['user'][:8]:<8} {p['pid']:>7}  0.0  0.1  {8000 + p['pid'] % 997:>5}  {4000 + p['pid'] % 613:>4} "
                f"{p['tty']:<8} Ss   09:14   0:00 {p['cmd']}\n" for p in procs))
        return 0

    @_command("who", help="show who is logged on")
    def _who(self, ctx: _Ctx) -> int:
        ctx.out(_join_lines(f"{p['user']:<8} {p['tty']:<12} {self._date('%Y-%m-%d')} 09:{14 + i:02d} (10.0.3.{15 + i})"
                            for i, p in enumerate(p for p in self._procs if p["cmd"] == "-bash")))
        return 0

    @_command("id", "groups", help="print real and effective user and group IDs (id) or group names (groups)")
    def _id(self, ctx: _Ctx) -> int:
        o, names = ctx.getopt("ugGn", "user:u group:g groups:G name:n")
        name = (names or [self.user])[0]
        if name != "root" and name not in self.users:
            raise _Fail(f"{ctx.name}: '{name}': no such user")
        groups, uid = list(dict.fromkeys([name] + (self.users[name]["groups"] if name in self.users else []))), self._uid(name)
        if ctx.name == "groups" or "G" in o:
            ctx.out((f"{name} : " if names and ctx.name == "groups" else "") + " ".join(groups) + "\n")
        elif "u" in o or "g" in o:
            ctx.out((name if "n" in o else str(uid)) + "\n")
        else:
            ctx.out(f"uid={uid}({name}) gid={uid}({name}) groups="
                    + ",".join(f"{self._gid(g) if g != name else uid}({g})" for g in groups) + "\n")
        return 0

    @_command("sudo", help="execute a command as another user")
    def _sudo(self, ctx: _Ctx) -> int:
        if "-l" in ctx.args:
            ctx.out(f"User {self.user} may run the following commands on {self.hostname}:\n    (ALL : ALL) NOPASSWD: ALL\n")
        elif not {"-v", "-k", "-K", "-i", "-s"} & set(ctx.args):
            raise _Fail("usage: sudo -h | -K | -k | -V\nusage: sudo [-u user] [-i | -s] [<command>]")
        return 0

    @_command("bash", "sh", "dash", "zsh", "source", ".", help="GNU Bourne-Again SHell")
    def _bash(self, ctx: _Ctx) -> int:
        if ctx.name in ("source", "."):
            if not ctx.args:
                raise _Fail(f"bash: {ctx.name}: filename argument required", 2)
            return self._run_script(ctx, self._read(ctx, f"bash: {ctx.name}", ctx.args[0]), ctx.args[0])
        o, files = ctx.getopt("+c:ilsxeu", "login norc noprofile posix", code=2)
        if "c" in o:
            script, label = o.get("c"), "-c"
        elif files:
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
        o, command = ctx.getopt("+0I:in:L:d:P:s:E:rt", "null:0 replace? max-args:n delimiter:d no-run-if-empty:r "
                                "max-procs:P verbose:t")
        replace = o.get("I") or ("{}" if "i" in o or "replace" in o else None)
        command, data, delim = command or ["echo"], (ctx.stdin or "")[:100_000], "\0" if "0" in o else o.get("d")
        if delim:
            items = data.split(_unescape(delim)[0])
        elif replace:
            items = [line.strip() for line in _lines(data)]
        else:
            try:
                items = shlex.split(data)
            except ValueError:
                items = data.split()
        if not (items := [x for x in items if x]) and ("r" in o or replace):
            return 0
        per = o.get("n") or o.get("L")
        if replace:
            batches = [[_replaced(a, replace, item, "xargs") for a in command] for item in items[:_MAX_INVOCATIONS]]
        elif per and per.isascii() and per.isdigit() and int(per) > 0:
            batches = [command + items[k:k + int(per)] for k in range(0, min(len(items), int(per) * _MAX_INVOCATIONS), int(per))]
        else:
            batches = [command + items]
        return 123 if any([self._invoke(ctx, argv) for argv in batches or [command]]) else 0  # noqa: C419 (run all)

    @_command("test", "[", "[[", help="check file types and compare values")
    def _test(self, ctx: _Ctx) -> int:
        args, closing, negate = list(ctx.args), {"[": "]", "[[": "]]"}.get(ctx.name), False
        if closing:
            if not args or args[-1] != closing:
                raise _Fail(f"bash: {ctx.name}: missing `{closing}'", 2)
            args = args[:-1]
        while args and args[0] == "!":
            negate, args = not negate, args[1:]
        if len(args) == 2:
            op, path = args[0], self._abs(args[1])
            checks = {"-e": self.fs.exists, "-f": self.fs.files.__contains__, "-d": self.fs.is_dir, "-r": self.fs.exists,
                      "-s": lambda p: bool(self.fs.files.get(p)), "-w": self.fs.exists, "-L": lambda p: False,
                      "-x": lambda p: self.fs.exists(p) and bool(self._meta(p)[0] & 0o111), "-h": lambda p: False,
                      "-z": lambda p: args[1] == "", "-n": lambda p: args[1] != ""}
            if op not in checks:
                raise _Fail(f"bash: test: {op}: unary operator expected", 2)
            result = checks[op](path)
        elif len(args) == 3:
            a, op, b = args
            if op in ("-eq", "-ne", "-lt", "-le", "-gt", "-ge"):
                if bad := next((x for x in (a, b) if not re.fullmatch(r"-?[0-9]+", x)), None):
                    raise _Fail(f"bash: test: {bad}: integer expression expected", 2)
                a, b, op = int(a), int(b), {"-eq": "==", "-ne": "!=", "-lt": "<", "-le": "<=", "-gt": ">", "-ge": ">="}[op]
            ops = {"=": a == b, "==": a == b, "!=": a != b, "<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}
            if op not in ops:
                raise _Fail(f"bash: test: {op}: binary operator expected", 2)
            result = ops[op]
        elif len(args) > 3:
            raise _Fail("bash: test: too many arguments", 2)
        else:
            result = bool(args and args[0])
        return 0 if result != negate else 1

    @_command("history", help="display the command history list")
    def _history_cmd(self, ctx: _Ctx) -> int:
        if "-c" in ctx.args:
            self._history.clear()
        n = int(ctx.args[0]) if ctx.args and ctx.args[0].isascii() and ctx.args[0].isdigit() else len(self._history)
        ctx.out(_join_lines(f"{i:>5}  {line}" for i, line in list(enumerate(self._history, 1))[max(0, len(self._history) - n):]))
        return 0

    @_command("whoami", "pwd", "hostname", "uname", "date", "df", help="print the user, directory, host, system or date")
    def _info(self, ctx: _Ctx) -> int:
        if ctx.name == "hostname" and ctx.args and not ctx.args[0].startswith("-"):
            raise _Fail("hostname: you must be root to change the host name")
        letters = "".join(a.lstrip("-") for a in ctx.args if a.startswith("-"))
        letters = "snrvmpio" if "a" in letters or "--all" in ctx.args else letters or "s"
        fmt = next((a[1:] for a in ctx.args if a.startswith("+")), "%a %b %e %H:%M:%S UTC %Y")
        ctx.out({"whoami": self.user, "pwd": self.cwd, "date": self._date(fmt), "df": _DF["h" not in letters][:-1],
                 "hostname": f"{self.hostname}.{self.domain}" if {"-f", "--fqdn", "--long"} & set(ctx.args) else self.hostname,
                 "uname": " ".join({**_UNAME, "n": self.hostname}[c] for c in "snrvmpio" if c in letters)}[ctx.name] + "\n")
        return 0

    @_command("env", "printenv", help="print the environment")
    def _env(self, ctx: _Ctx) -> int:
        env = {"SHELL": "/bin/bash", "PWD": self.cwd, "LOGNAME": self.user, "HOME": self.home, "LANG": "C.UTF-8",
               "TERM": "xterm-256color", "USER": self.user, "HOSTNAME": self.hostname, "SHLVL": "1", "OLDPWD": self._oldpwd,
               "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "MAIL": f"/var/mail/{self.user}"}
        if names := [a for a in ctx.args if not a.startswith("-") and "=" not in a] if ctx.name == "printenv" else []:
            ctx.out(_join_lines(env[n] for n in names if n in env))
            return 0 if all(n in env for n in names) else 1
        ctx.out(_join_lines(f"{k}={v}" for k, v in env.items()))
        return 0

    @_command("which", "type", help="locate a command")
    def _which(self, ctx: _Ctx) -> int:
        status = 0
        for name in [a for a in ctx.args if not a.startswith("-")]:
            path = f"/usr/{'sbin' if name in _SBIN else 'bin'}/{name}"
            if ctx.name == "type" and name in _BUILTINS:
                ctx.out(f"{name} is a shell builtin\n")
            elif name in _COMMANDS and (name not in _BUILTINS or name in ("echo", "printf", "pwd", "kill", "test", "true", "false")):
                ctx.out(f"{name} is {path}\n" if ctx.name == "type" else path + "\n")
            else:
                status = 1
                ctx.write(2, f"bash: type: {name}: not found\n" if ctx.name == "type" else "")
        return status

    @_command("man", "info", help="an interface to the system reference manuals")
    def _man(self, ctx: _Ctx) -> int:
        if not (names := [a for a in ctx.args if not a.startswith("-")]):
            raise _Fail("What manual page do you want?\nFor example, try 'man man'.")
        if (name := names[-1]) not in _HELP:
            raise _Fail(f"No manual entry for {name}", 16)
        title = f"{name.upper()}(1)"
        ctx.out(f"{title:<30}User Commands{title:>30}\n\nNAME\n       {name} - {_HELP[name]}\n\n"
                f"SYNOPSIS\n       {name} [OPTION]... [ARGUMENT]...\n")
        return 0

    @_command("clear", "reset", "export", "unset", "alias", "unalias", "set", "shopt", "ulimit", "umask", "wait", "sync",
              "true", ":", "hash", "trap", "time", "nohup", "nice", "timeout", "command", "builtin", "exec", "stdbuf",
              "false", "sleep", "exit", "logout", "yes", "seq", "vi", "vim", "nano", "emacs", help="shell builtins and utilities")
    def _misc(self, ctx: _Ctx) -> int:
        name, args = ctx.name, ctx.args
        if name in ("vi", "vim", "nano", "emacs"):
            raise _Fail(f"{name}: interactive editors are not available in this terminal; "
                        "use echo, printf, cat with a heredoc, tee or sed -i to edit files")
        if name in ("exit", "logout"):
            raise _Exit(int(args[0]) % 256 if args and re.fullmatch(r"-?\d{1,9}", args[0]) else 2 if args else self._status)
        if name == "sleep" and (bad := next((a for a in args if not re.fullmatch(r"\d+(\.\d+)?[smhd]?|infinity", a)),
                                            None if args else "")) is not None:
            raise _Fail(f"sleep: {f'invalid time interval {bad!r}' if bad else 'missing operand'}\n"
                        "Try 'sleep --help' for more information.")
        if name == "yes":
            line = (" ".join(args) or "y") + "\n"
            ctx.out(line * (_MAX_STREAM_CHARS // len(line) + 1))
        if name == "seq":
            if bad := next((a for a in args if not re.fullmatch(r"-?[0-9]+", a)), None):
                raise _Fail(f"seq: invalid floating point argument: '{bad}'")
            if not 1 <= len(nums := [int(a) for a in args]) <= 3:
                raise _Fail("seq: missing operand\nTry 'seq --help' for more information.")
            first, step, last = (1, 1, nums[0]) if len(nums) == 1 else (nums[0], 1, nums[1]) if len(nums) == 2 else nums
            if step == 0:
                raise _Fail("seq: invalid Zero increment value: '0'")
            lines, size = [], 0
            for n in range(first, last + (1 if step > 0 else -1), step)[:100_000]:
                _tick()
                lines.append(str(n))
                if (size := size + len(lines[-1]) + 1) > _MAX_STREAM_CHARS:
                    break
            ctx.out(_join_lines(lines))
        return 1 if name == "false" else 0
