"""Consequential commands: writes, copies, deletes, mail, web, remote copies, accounts, permissions, processes."""

from __future__ import annotations

import posixpath
import re
from urllib.parse import quote as _urlquote
from urllib.parse import urlsplit

from .limits import (_MAX_STREAM_CHARS, _budget, _clip, _digest, _Fail, _FsError, _join_lines, _lines, _nbytes, _tick,
                     _unescape)
from .runtime import _HOST, _REMOTE, _command, _Ctx, _options
from .vfs import _DEVICES


class _Actions:
    """Commands whose effects are recorded as events for the judges."""

    def _copy_tree(self, src: str, dest: str) -> list[str]:
        """Copy a file or directory tree; returns the files written."""
        written = []
        if self.fs.is_dir(src):
            self.fs.mkdir(dest)
            for p in self.fs.walk(src):
                _tick()
                target = dest + p[len(src):]
                if self.fs.is_dir(p):
                    self.fs.mkdir(target)
                else:
                    self._write(target, self.fs.read(p))
                    written.append(target)
        else:
            self._write(dest, self.fs.read(src))
            written.append(dest)
        return written

    def _two_or_more(self, ctx: _Ctx, operands: list[str]) -> tuple[list[str], str, bool]:
        if not operands:
            raise _Fail(f"{ctx.name}: missing file operand\nTry '{ctx.name} --help' for more information.")
        if len(operands) == 1:
            raise _Fail(f"{ctx.name}: missing destination file operand after '{operands[0]}'")
        *sources, dest = operands
        into = self.fs.is_dir(self._abs(dest))
        if len(sources) > 1 and not into:
            raise _Fail(f"{ctx.name}: target '{dest}' is not a directory")
        return sources, dest, into

    @_command("cp", help="copy files and directories")
    def _cp(self, ctx: _Ctx) -> int:
        o, operands = ctx.getopt("rRafipvnulsT", {"recursive": "r", "archive": "a", "force": "f", "verbose": "v"})
        sources, dest, into = self._two_or_more(ctx, operands)
        written, copied = [], []
        for s in sources:
            src = self._abs(s)
            target = posixpath.join(self._abs(dest), posixpath.basename(src)) if into else self._abs(dest)
            if not self.fs.exists(src):
                ctx.err(f"cp: cannot stat '{s}': No such file or directory")
            elif self.fs.is_dir(src) and not ({"r", "R", "a"} & {k for k, _ in o.pairs}):
                ctx.err(f"cp: -r not specified; omitting directory '{s}'")
            elif target == src or target.startswith(src + "/"):
                ctx.err(f"cp: '{s}' and '{dest}' are the same file" if target == src
                        else f"cp: cannot copy a directory, '{s}', into itself, '{dest}'")
            else:
                try:
                    written += self._copy_tree(src, target)
                    copied.append(src)
                    ctx.sources.update(self._files_under(src))
                    if "v" in o:
                        ctx.out(f"'{s}' -> '{target}'\n")
                except _FsError as exc:
                    ctx.err(f"cp: cannot create regular file '{dest}': {exc}")
        if copied:
            self._event("copy", ctx, tool="cp", sources=copied, destination=self._abs(dest), paths=written)
        return ctx.status

    @_command("mv", help="move (rename) files")
    def _mv(self, ctx: _Ctx) -> int:
        o, operands = ctx.getopt("fintuvT", {"force": "f", "verbose": "v"})
        sources, dest, into = self._two_or_more(ctx, operands)
        moved, written = [], []
        for s in sources:
            src = self._abs(s)
            target = posixpath.join(self._abs(dest), posixpath.basename(src)) if into else self._abs(dest)
            if not self.fs.exists(src) or src in _DEVICES:
                ctx.err(f"mv: cannot stat '{s}': No such file or directory")
                continue
            if target == src or target.startswith(src + "/") or src == "/":
                ctx.err(f"mv: cannot move '{s}' to a subdirectory of itself, '{dest}'")
                continue
            try:
                old_paths = self._files_under(src)
                written += self._copy_tree(src, target)
            except _FsError as exc:
                ctx.err(f"mv: cannot move '{s}' to '{dest}': {exc}")
                continue
            for p in reversed([src] + self.fs.walk(src)):
                self.fs.remove(p)
            moved += old_paths
        if moved:
            self._event("move", ctx, tool="mv", sources=moved, destination=self._abs(dest), paths=written)
        return ctx.status

    def _delete(self, ctx: _Ctx, tool: str, paths: list[str], verbose: bool = False) -> None:
        """Remove paths (directories with everything below) and record one delete event."""
        files, dirs = [], []
        for path in paths:
            for p in reversed([path] + self.fs.walk(path)):
                _tick()
                if p in _DEVICES or p in ("/", "/dev") or not self.fs.exists(p):
                    continue
                (files if p in self.fs.files else dirs).append(p)
                self.fs.remove(p)
                if verbose:
                    ctx.out(f"removed {'directory ' if p in dirs else ''}'{p}'\n")
        if files or dirs:
            self._event("delete", ctx, tool=tool, paths=sorted(files), dirs=sorted(dirs))

    @_command("rm", help="remove files or directories")
    def _rm(self, ctx: _Ctx) -> int:
        args = [a for a in ctx.args if a not in ("--no-preserve-root", "--preserve-root")]
        o, operands = ctx.getopt("rRfidvI", {"recursive": "r", "force": "f", "dir": "d", "verbose": "v"}, args=args)
        recursive, force = "r" in o or "R" in o, "f" in o
        if not operands and not force:
            raise _Fail("rm: missing operand\nTry 'rm --help' for more information.")
        targets = []
        for arg in operands:
            path = self._abs(arg)
            if path == "/" and recursive and "--no-preserve-root" not in ctx.args:
                ctx.err("rm: it is dangerous to operate recursively on '/'\n"
                        "rm: use --no-preserve-root to override this failsafe")
            elif posixpath.basename(arg.rstrip("/")) in (".", ".."):
                ctx.err(f"rm: refusing to remove '.' or '..' directory: skipping '{arg}'")
            elif not self.fs.exists(path):
                if not force:
                    ctx.err(f"rm: cannot remove '{arg}': No such file or directory")
            elif path in _DEVICES:
                ctx.err(f"rm: cannot remove '{arg}': Permission denied")
            elif self.fs.is_dir(path) and not recursive and not ("d" in o and not self.fs.children[path]):
                ctx.err(f"rm: cannot remove '{arg}': Is a directory")
            else:
                targets.append(path)
        self._delete(ctx, "rm", targets, verbose="v" in o)
        return ctx.status

    @_command("rmdir", help="remove empty directories")
    def _rmdir(self, ctx: _Ctx) -> int:
        _, operands = ctx.getopt("pv", {"parents": "p"})
        for arg in operands:
            path = self._abs(arg)
            if not self.fs.is_dir(path):
                ctx.err(f"rmdir: failed to remove '{arg}': {'Not a directory' if self.fs.exists(path) else 'No such file or directory'}")
            elif self.fs.children[path]:
                ctx.err(f"rmdir: failed to remove '{arg}': Directory not empty")
            else:
                self._delete(ctx, "rmdir", [path])
        return ctx.status

    @_command("mkdir", help="make directories")
    def _mkdir(self, ctx: _Ctx) -> int:
        o, operands = ctx.getopt("pvm:", {"parents": "p", "verbose": "v", "mode=": "m"})
        if not operands:
            raise _Fail("mkdir: missing operand\nTry 'mkdir --help' for more information.")
        for arg in operands:
            path = self._abs(arg)
            if self.fs.exists(path):
                if "p" not in o or not self.fs.is_dir(path):
                    ctx.err(f"mkdir: cannot create directory '{arg}': File exists")
                continue
            if "p" not in o and not self.fs.is_dir(posixpath.dirname(path)):
                ctx.err(f"mkdir: cannot create directory '{arg}': No such file or directory")
                continue
            try:
                for d in reversed(self.fs.mkdir(path)):
                    self.fs.meta[d] = [0o755, self.user, self.user]
                    if "v" in o:
                        ctx.out(f"mkdir: created directory '{d}'\n")
            except _FsError as exc:
                ctx.err(f"mkdir: cannot create directory '{arg}': {exc}")
        return ctx.status

    @_command("touch", help="change file timestamps (creating empty files)")
    def _touch(self, ctx: _Ctx) -> int:
        _, operands = ctx.getopt("acmd:r:t:", {})
        if not operands:
            raise _Fail("touch: missing file operand\nTry 'touch --help' for more information.")
        touched = []
        for arg in operands:
            path = self._abs(arg)
            if self.fs.exists(path):
                touched.append(path)
                continue
            try:
                self._write(path, "")
                touched.append(path)
            except _FsError as exc:
                ctx.err(f"touch: cannot touch '{arg}': {exc}")
        if touched:
            self._event("write", ctx, tool="touch", paths=touched)
        return ctx.status

    @_command("tee", help="read from standard input and write to standard output and files")
    def _tee(self, ctx: _Ctx) -> int:
        o, operands = ctx.getopt("ai", {"append": "a"})
        data = ctx.stdin or ""
        for arg in operands:
            path = self._abs(arg)
            try:
                self._write(path, data, append="a" in o)
                self._event("write", ctx, tool="tee", paths=[path], append="a" in o, content=_clip(data))
            except _FsError as exc:
                ctx.err(f"tee: {arg}: {exc}")
        ctx.out(data)
        return ctx.status

    @_command("tar", help="an archiving utility")
    def _tar(self, ctx: _Ctx) -> int:
        args = list(ctx.args)
        if args and not args[0].startswith("-"):
            args[0] = "-" + args[0]
        o, operands = ctx.getopt("cxtvzjJf:C:ra", {"create": "c", "extract": "x", "list": "t", "verbose": "v",
                                                    "gzip": "z", "file=": "f", "directory=": "C", "exclude=": "exclude"},
                                 args=args, code=2)
        archive = o.get("f")
        if "c" in o:
            if not archive:
                raise _Fail("tar: Refusing to write archive contents to terminal (missing -f option?)\n"
                            "tar: Error is not recoverable: exiting now", 2)
            base = self._abs(o.get("C", "."))
            members, sources = [], []
            for arg in operands:
                path = posixpath.normpath(posixpath.join(base, arg))
                if not self.fs.exists(path):
                    ctx.err(f"tar: {arg}: Cannot stat: No such file or directory")
                    continue
                for p in self._files_under(path):
                    members.append(posixpath.normpath(posixpath.join(arg, posixpath.relpath(p, path))).lstrip("/"))
                    sources.append(p)
            if not members and not operands:
                raise _Fail("tar: Cowardly refusing to create an empty archive\nTry 'tar --help' for more information.", 2)
            manifest = "# tar archive (simulated): member list\n" + _join_lines(members)
            if archive == "-":
                ctx.out(manifest)
            else:
                try:
                    self._write(self._abs(archive), manifest)
                except _FsError as exc:
                    raise _Fail(f"tar: {archive}: Cannot open: {exc}", 2) from None
                self._event("copy", ctx, tool="tar", sources=sources, destination=self._abs(archive),
                            paths=[self._abs(archive)])
            ctx.sources.update(sources)
            if "v" in o:
                ctx.out(_join_lines(members))
            return 2 if ctx.status else 0
        if "t" in o or "x" in o:
            text = self._read(ctx, "tar", archive) if archive and archive != "-" else (ctx.stdin or "")
            if not text.startswith("# tar archive"):
                raise _Fail("tar: This does not look like a tar archive\ntar: Exiting with failure status due to previous errors", 2)
            if "t" in o or "v" in o:
                ctx.out(_join_lines(_lines(text)[1:]))
            return 0
        raise _Fail("tar: You must specify one of the '-Acdtrux', '--delete' or '--test-label' options\n"
                    "Try 'tar --help' or 'tar --usage' for more information.", 2)

    @_command("zip", help="package and compress (archive) files")
    def _zip(self, ctx: _Ctx) -> int:
        o, operands = ctx.getopt("rqjv9e", {})
        if len(operands) < 2:
            raise _Fail("zip error: Nothing to do! (try: zip -r archive.zip . )", 12)
        archive = operands[0] if "." in posixpath.basename(operands[0]) else operands[0] + ".zip"
        members, sources = [], []
        for arg in operands[1:]:
            path = self._abs(arg)
            if not self.fs.exists(path):
                ctx.err(f"\tzip warning: name not matched: {arg}")
                continue
            paths = self._files_under(path) if "r" in o else ([] if self.fs.is_dir(path) else [path])
            for p in paths:
                name = posixpath.basename(p) if "j" in o else posixpath.normpath(posixpath.join(arg, posixpath.relpath(p, path)))
                members.append(name)
                sources.append(p)
                if "q" not in o:
                    ctx.out(f"  adding: {name} (deflated {int(_digest(p)[:2], 16) % 60 + 10}%)\n")
        if not members:
            raise _Fail("\nzip error: Nothing to do! (" + archive + ")", 12)
        try:
            self._write(self._abs(archive), "# zip archive (simulated): member list\n" + _join_lines(members))
        except _FsError as exc:
            raise _Fail(f"zip I/O error: {exc}\nzip error: Could not create output file ({archive})", 15) from None
        ctx.sources.update(sources)
        self._event("copy", ctx, tool="zip", sources=sources, destination=self._abs(archive), paths=[self._abs(archive)])
        return 0

    @_command("shred", help="overwrite a file to hide its contents, and optionally delete it")
    def _shred(self, ctx: _Ctx) -> int:
        args = ["-u" if a.startswith("--remove") else a for a in ctx.args]
        o, operands = ctx.getopt("fn:suvxz", {"force": "f", "iterations=": "n", "zero": "z", "verbose": "v"}, args=args)
        if not operands:
            raise _Fail("shred: missing file operand\nTry 'shred --help' for more information.")
        done = []
        for arg in operands:
            _budget().check()
            path = self._abs(arg)
            if path not in self.fs.files:
                ctx.err(f"shred: {arg}: failed to open for writing: "
                        f"{'Is a directory' if self.fs.is_dir(path) else 'No such file or directory'}")
                continue
            size = len(self.fs.files[path])
            junk = ("".join(_digest(f"{path}{i}") for i in range(size // 64 + 1)))[:size]
            self._write(path, "\0" * size if "z" in o else junk)
            done.append(path)
            if "u" in o:
                self.fs.remove(path)
                if "v" in o:
                    ctx.err(f"shred: {arg}: removed")
        if done:
            self._event("delete", ctx, tool="shred", paths=done, removed="u" in o)
        return ctx.status

    @_command("chmod", help="change file mode bits")
    def _chmod(self, ctx: _Ctx) -> int:
        recursive = any(a in ("-R", "--recursive") for a in ctx.args)
        rest = [a for a in ctx.args if a not in ("-R", "--recursive", "-v", "-c", "-f", "--verbose", "--changes", "--silent")]
        if len(rest) < 2:
            raise _Fail(f"chmod: missing operand{' after ' + repr(rest[0]) if rest else ''}\nTry 'chmod --help' for more information.")
        mode, changed = rest[0], []
        for arg in rest[1:]:
            path = self._abs(arg)
            if not self.fs.exists(path):
                ctx.err(f"chmod: cannot access '{arg}': No such file or directory")
                continue
            for p in [path] + (self.fs.walk(path) if recursive else []):
                _tick()
                meta = self._meta(p)
                new = self._apply_mode(mode, meta[0], self.fs.is_dir(p))
                if new is None:
                    raise _Fail(f"chmod: invalid mode: '{mode}'\nTry 'chmod --help' for more information.")
                meta[0] = new
                changed.append(p)
                self._perm_changed.add(p)
        if changed:
            self._event("permission", ctx, tool="chmod", paths=changed, mode=mode, owner=None, recursive=recursive)
        return ctx.status

    @staticmethod
    def _apply_mode(spec: str, mode: int, is_dir: bool) -> int | None:
        if re.fullmatch(r"[0-7]{1,4}", spec):
            return int(spec, 8)
        for clause in spec.split(","):
            m = re.fullmatch(r"([ugoa]*)((?:[-+=][rwxXst]*)+)", clause)
            if not m:
                return None
            who = m.group(1) or "a"
            mask = sum({"u": 0o4700, "g": 0o2070, "o": 0o1007, "a": 0o7777}[w] for w in set(who))
            for op, perms in re.findall(r"([-+=])([rwxXst]*)", m.group(2)):
                bits = 0
                for p in perms:
                    x_ok = p != "X" or is_dir or mode & 0o111
                    bits |= {"r": 0o444, "w": 0o222, "x": 0o111, "X": 0o111 if x_ok else 0, "s": 0o6000, "t": 0o1000}[p]
                bits &= mask
                mode = mode | bits if op == "+" else mode & ~bits if op == "-" else (mode & ~mask) | bits
        return mode

    @_command("chown", "chgrp", help="change file owner and group")
    def _chown(self, ctx: _Ctx) -> int:
        recursive = any(a in ("-R", "--recursive") for a in ctx.args)
        rest = [a for a in ctx.args if not a.startswith("-")]
        if len(rest) < 2:
            raise _Fail(f"{ctx.name}: missing operand\nTry '{ctx.name} --help' for more information.")
        spec = rest[0]
        owner, _, group = spec.partition(":") if ctx.name == "chown" else ("", "", spec)
        if owner and owner not in self.users and owner != "root" and not owner.isdigit():
            raise _Fail(f"chown: invalid user: '{spec}'")
        changed = []
        for arg in rest[1:]:
            path = self._abs(arg)
            if not self.fs.exists(path):
                ctx.err(f"{ctx.name}: cannot access '{arg}': No such file or directory")
                continue
            for p in [path] + (self.fs.walk(path) if recursive else []):
                _tick()
                meta = self._meta(p)
                meta[1] = owner or meta[1]
                meta[2] = group or (owner if ":" in spec and owner else meta[2])
                changed.append(p)
                self._perm_changed.add(p)
        if changed:
            self._event("permission", ctx, tool=ctx.name, paths=changed, mode=None, owner=spec, recursive=recursive)
        return ctx.status

    @_command("mail", "mailx", "Mail", "s-nail", help="send and receive mail")
    def _mail(self, ctx: _Ctx) -> int:
        if not ctx.args:
            raise _Fail(f"No mail for {self.user}")
        o, rest = ctx.getopt("s:c:b:r:a:A:nNvEidt", {"subject=": "s", "cc=": "c", "bcc=": "b", "attach=": "a"})
        to, cc, bcc = self._addresses(rest), self._addresses(o.all("c")), self._addresses(o.all("b"))
        if not (to or cc or bcc):
            raise _Fail(f"{ctx.name}: no recipients specified")
        attachments = []
        for arg in o.all("a"):
            path = self._abs(arg)
            if path not in self.fs.files:
                raise _Fail(f"{arg}: No such file or directory\n{ctx.name}: message not sent")
            attachments.append(path)
        body = ctx.stdin
        if body is None:
            ctx.write(2, "Null message body; hope that's ok\n")
            body = ""
        # "to" lists every recipient (To, Cc and Bcc): whoever the message reached.
        self._event("email", ctx, tool=ctx.name, sender=o.get("r") or self._sender,
                    to=list(dict.fromkeys(to + cc + bcc)), cc=cc, bcc=bcc, subject=o.get("s", ""), body=_clip(body),
                    files=sorted(ctx.stdin_sources | set(attachments)),
                    attachments={p: _clip(self.fs.read(p)) for p in attachments})
        return 0

    @_command("sendmail", help="an electronic mail transport agent")
    def _sendmail(self, ctx: _Ctx) -> int:
        o, rest = ctx.getopt("tif:F:vo:b:r:N:R:V:X:", {})
        text = (ctx.stdin or "").replace("\r\n", "\n")
        headers, lines = {}, text.split("\n")
        i, key = 0, None
        if lines and re.match(r"^[A-Za-z][A-Za-z0-9-]*:", lines[0]):
            while i < len(lines) and lines[i].strip():
                if lines[i][:1] in " \t" and key:
                    headers[key] += " " + lines[i].strip()
                elif ":" in lines[i]:
                    key, _, value = lines[i].partition(":")
                    key = key.strip().lower()
                    headers[key] = value.strip()
                i += 1
            i += 1
        body = "\n".join(lines[i:])
        recipients = self._addresses(rest)
        if "t" in o or not recipients:
            recipients += self._addresses([headers[h] for h in ("to", "cc", "bcc") if headers.get(h)])
        if not recipients:
            raise _Fail("sendmail: No recipient addresses found in header" if "t" in o else "Recipient names must be specified", 64)
        self._event("email", ctx, tool="sendmail", sender=o.get("f") or headers.get("from") or self._sender,
                    to=recipients, cc=self._addresses([headers.get("cc", "")]), bcc=[], subject=headers.get("subject", ""),
                    body=_clip(body), files=sorted(ctx.stdin_sources), attachments={})
        return 0

    def _http_response(self, method: str, url: str, host: str, data: str) -> tuple[str, str]:
        """A canned, deterministic (headers, body) for a request."""
        if method in ("POST", "PUT", "PATCH", "DELETE"):
            ref = "REF-" + _digest(f"{url}\n{data}")[:8].upper()
            body = f"<html><body>Submission received. Reference: {ref}</body></html>\n"
        else:
            body = (f"<!DOCTYPE html>\n<html><head><title>{host}</title></head>\n"
                    f"<body><h1>{host}</h1><p>Welcome to {host}.</p></body></html>\n")
        headers = (f"HTTP/1.1 200 OK\nDate: {self._date('%a, %d %b %Y %H:%M:%S GMT')}\nServer: nginx\n"
                   f"Content-Type: text/html; charset=UTF-8\nContent-Length: {_nbytes(body)}\nConnection: keep-alive\n\n")
        return headers, body

    @staticmethod
    def _fake_ip(host: str) -> str:
        h = bytes.fromhex(_digest(host)[:8])
        return f"{h[0] % 180 + 20}.{h[1]}.{h[2]}.{h[3] % 250 + 2}"

    def _url(self, url: str, tool: str) -> tuple[str, str, str]:
        """Normalise a URL: (full url, scheme, lower-case host); raises _Fail if it is unusable."""
        full = url if "://" in url else "http://" + url
        try:
            split = urlsplit(full)
            host = (split.hostname or "").lower()
        except ValueError:
            raise _Fail(f"{tool}: (3) URL using bad/illegal format or missing URL", 3) from None
        scheme = split.scheme.lower()
        if scheme not in ("http", "https", "ftp", "ftps", "file"):
            raise _Fail(f'{tool}: (1) Protocol "{scheme}" not supported', 1)
        if not host and scheme != "file":
            raise _Fail(f"{tool}: (3) URL rejected: No host part in the URL", 3)
        return full, scheme, host

    def _upload_file(self, ctx: _Ctx, arg: str, files: list[str]) -> str:
        if arg == "-":
            files.extend(sorted(ctx.stdin_sources))
            return ctx.stdin or ""
        path = self._abs(arg)
        if path not in self.fs.files:
            ctx.write(2, f'Warning: Couldn\'t read data from file "{arg}", this makes an empty POST.\n')
            return ""
        files.append(path)
        ctx.sources.add(path)
        return self.fs.read(path)

    _CURL_VALUED = frozenset(
        "-X --request -d --data --data-raw --data-binary --data-ascii --data-urlencode -F --form --form-string -H "
        "--header -o --output -T --upload-file -u --user -A --user-agent -e --referer -b --cookie -c --cookie-jar -w "
        "--write-out -m --max-time --connect-timeout --url --json -x --proxy -r --range --retry --cacert --cert --key "
        "-E -D --dump-header --limit-rate --max-redirs --resolve --oauth2-bearer -K --config".split())
    _CURL_FLAGS = frozenset(
        "-s --silent -S --show-error -L --location -k --insecure -v --verbose -i --include -I --head -f --fail "
        "--fail-with-body -O --remote-name -G --get --compressed -# --progress-bar -N --no-buffer -4 -6 -g --globoff "
        "-n --netrc -q -l --list-only -J --remote-header-name -R --remote-time --http1.1 --http2 --tlsv1.2 "
        "--ssl-reqd --no-progress-meter --create-dirs -a --append".split())

    @_command("curl", help="transfer a URL")
    def _curl(self, ctx: _Ctx) -> int:
        pairs, urls = _options(ctx.args, self._CURL_VALUED, self._CURL_FLAGS, "curl", gnu=False)
        keys = {k for k, _ in pairs}
        urls += [v for k, v in pairs if k == "--url"]
        if not urls:
            raise _Fail("curl: no URL specified!\ncurl: try 'curl --help' or 'curl --manual' for more information", 2)
        files: list[str] = []
        parts: list[str] = []
        for k, v in pairs:
            if k in ("-d", "--data", "--data-ascii", "--data-binary", "--json"):
                content = self._upload_file(ctx, v[1:], files) if v.startswith("@") else v
                parts.append(content.replace("\r", "").replace("\n", "") if k in ("-d", "--data", "--data-ascii") else content)
            elif k == "--data-raw":
                parts.append(v)
            elif k == "--data-urlencode":
                name, eq, value = v.partition("=")
                parts.append(f"{name}={_urlquote(value)}" if eq else _urlquote(v))
            elif k in ("-F", "--form", "--form-string"):
                name, _, value = v.partition("=")
                if k != "--form-string" and value[:1] in ("@", "<"):
                    value = self._upload_file(ctx, value[1:].split(";")[0], files)
                parts.append(f"{name}={value}")
        for arg in [v for k, v in pairs if k in ("-T", "--upload-file")]:
            parts.append(self._upload_file(ctx, arg, files))
        size = 0
        for n, part in enumerate(parts):  # the body is cut at the stream cap, as a pipe would be
            _tick()
            parts[n] = part[:max(0, _MAX_STREAM_CHARS - size)]
            size += len(parts[n]) + 1
        explicit = [v for k, v in pairs if k in ("-X", "--request")]
        get = keys & {"-G", "--get"}
        method = (explicit[-1].upper() if explicit else "HEAD" if keys & {"-I", "--head"} else
                  "PUT" if keys & {"-T", "--upload-file"} else "POST" if parts and not get else "GET")
        data = "&".join(parts)
        silent = keys & {"-s", "--silent", "--no-progress-meter"}
        outputs = [v for k, v in pairs if k in ("-o", "--output")]
        for n, url in enumerate(urls[:20]):
            if get and data:
                url += ("&" if "?" in url else "?") + data
            full, scheme, host = self._url(url, "curl")
            if scheme == "file":
                ctx.out(self._read(ctx, "curl: (37) Couldn't read file", urlsplit(full).path or "/"))
                continue
            self._event("http", ctx, tool="curl", url=full, host=host, method=method, data=_clip("" if get else data),
                        files=sorted(set(files)), headers=[v for k, v in pairs if k in ("-H", "--header")])
            head, body = self._http_response(method, full, host, data)
            if "-v" in keys or "--verbose" in keys:
                ctx.err(f"*   Trying {self._fake_ip(host)}:{443 if scheme == 'https' else 80}...\n"
                        f"* Connected to {host} ({self._fake_ip(host)}) port {443 if scheme == 'https' else 80}\n"
                        f"> {method} {urlsplit(full).path or '/'} HTTP/1.1\n> Host: {host}\n>\n"
                        + "".join(f"< {line}\n" for line in _lines(head)[:-1]) + "<")
            text = head if method == "HEAD" else (head + body if keys & {"-i", "--include"} else body)
            target = outputs[n] if n < len(outputs) else (
                posixpath.basename(urlsplit(full).path) or "index.html" if keys & {"-O", "--remote-name"} else None)
            if target and target != "-":
                path = self._abs(target)
                try:
                    self._write(path, text)
                except _FsError as exc:
                    raise _Fail(f"curl: (23) Failure writing output to destination: {exc}", 23) from None
                self._event("write", ctx, tool="curl", paths=[path], append=False, content=_clip(text))
                if not silent:
                    size = _nbytes(text)
                    ctx.write(2, "  % Total    % Received % Xferd  Average Speed   Time    Time     Time  Current\n"
                                 "                                 Dload  Upload   Total   Spent    Left  Speed\n"
                                 f"100 {size:>5}  100 {size:>5}    0     0  {size * 9:>5}      0 --:--:-- --:--:-- --:--:-- {size * 9:>5}\n")
            else:
                ctx.out(text)
            for fmt in [v for k, v in pairs if k in ("-w", "--write-out")]:
                ctx.out(_unescape(fmt.replace("%{http_code}", "200").replace("%{response_code}", "200")
                                  .replace("%{url_effective}", full).replace("%{size_download}", str(_nbytes(body))))[0])
        return ctx.status

    _WGET_VALUED = frozenset(
        "-O --output-document -o --output-file -a --append-output -P --directory-prefix -U --user-agent --post-data "
        "--post-file --body-data --body-file --method --header --user --password --http-user --http-password -T "
        "--timeout -t --tries -e --execute --referer --load-cookies --save-cookies".split())
    _WGET_FLAGS = frozenset(
        "-q --quiet -nv --no-verbose -v --verbose -c --continue -N --timestamping -S --server-response --spider "
        "--no-check-certificate -b --background -r --recursive -np --no-parent -nc --no-clobber -x -nd -k -m -4 -6 "
        "--content-disposition --no-cache -d --debug --show-progress".split())

    @_command("wget", help="the non-interactive network downloader")
    def _wget(self, ctx: _Ctx) -> int:
        pairs, urls = _options(ctx.args, self._WGET_VALUED, self._WGET_FLAGS, "wget", gnu=False)
        opts = dict(pairs)
        if not urls:
            raise _Fail("wget: missing URL\nUsage: wget [OPTION]... [URL]...\n\nTry `wget --help' for more options.", 1)
        files: list[str] = []
        data = opts.get("--post-data", opts.get("--body-data"))
        for key in ("--post-file", "--body-file"):
            if key in opts:
                path = self._abs(opts[key])
                if path not in self.fs.files:
                    raise _Fail(f"wget: Unable to open {opts[key]}: No such file or directory")
                files.append(path)
                ctx.sources.add(path)
                data = self.fs.read(path)
        method = opts.get("--method", "POST" if data is not None else "GET").upper()
        quiet = "-q" in opts or "--quiet" in opts
        brief = "-nv" in opts or "--no-verbose" in opts
        for url in urls[:20]:
            full, scheme, host = self._url(url, "wget")
            self._event("http", ctx, tool="wget", url=full, host=host, method=method, data=_clip(data or ""),
                        files=sorted(set(files)), headers=[v for k, v in pairs if k == "--header"])
            _, body = self._http_response(method, full, host, data or "")
            target = opts.get("-O", opts.get("--output-document"))
            if target is None:
                name = posixpath.basename(urlsplit(full).path) or "index.html"
                target = posixpath.join(opts.get("-P", opts.get("--directory-prefix", "")), name)
                suffix = 1
                while self.fs.exists(self._abs(target)) and suffix < 100:
                    target, suffix = f"{posixpath.join(opts.get('-P', ''), name)}.{suffix}", suffix + 1
            size, ip = _nbytes(body), self._fake_ip(host)
            port = 443 if scheme == "https" else 80
            if not quiet and not brief:
                ctx.write(2, f"--{self._date('%Y-%m-%d %H:%M:%S')}--  {full}\nResolving {host} ({host})... {ip}\n"
                             f"Connecting to {host} ({host})|{ip}|:{port}... connected.\n"
                             f"HTTP request sent, awaiting response... 200 OK\nLength: {size} [text/html]\n"
                             f"Saving to: ‘{'STDOUT' if target == '-' else target}’\n\n"
                             f"{posixpath.basename(target)[:18]:<18} 100%[===================>] {size:>7}  --.-KB/s    in 0s\n\n"
                             f"{self._date('%Y-%m-%d %H:%M:%S')} (1.2 MB/s) - ‘{target}’ saved [{size}/{size}]\n\n")
            elif brief:
                ctx.write(2, f"{self._date('%Y-%m-%d %H:%M:%S')} URL:{full} [{size}/{size}] -> \"{target}\" [1]\n")
            if target == "-":
                ctx.out(body)
                continue
            path = self._abs(target)
            try:
                self._write(path, body)
            except _FsError as exc:
                raise _Fail(f"{target}: {exc}") from None
            self._event("write", ctx, tool="wget", paths=[path], append=False, content=_clip(body))
        return ctx.status

    def _local_files(self, ctx: _Ctx, tool: str, sources: list[str], recursive: bool) -> list[str]:
        files = []
        for s in sources:
            path = self._abs(s)
            if not self.fs.exists(path):
                ctx.err(f'rsync: [sender] link_stat "{path}" failed: No such file or directory (2)' if tool == "rsync"
                        else f"{tool}: {s}: No such file or directory")
            elif self.fs.is_dir(path) and not recursive:
                ctx.err(f"skipping directory {s}" if tool == "rsync" else f"{tool}: {s}: not a regular file")
            else:
                files += self._files_under(path)
        ctx.sources.update(files)
        return files

    def _progress(self, path: str) -> str:
        size = _nbytes(self.fs.files.get(path, ""))
        shown = f"{size}" if size < 1024 else f"{size // 1024}KB"
        return f"{posixpath.basename(path):<32} 100% {shown:>6} {(size % 900 + 100) / 100:.1f}MB/s   00:00\n"

    def _remote_copy(self, ctx: _Ctx, tool: str, sources: list[str], dest: str, recursive: bool, verbose: bool) -> int:
        """scp / rsync: copy to or from [user@]host:path, recording an exfiltration event."""
        remote_dest, remote_srcs = _REMOTE.match(dest), [_REMOTE.match(s) for s in sources]
        if not remote_dest and not any(remote_srcs):
            return self._invoke(ctx, ["cp", "-r", *sources, dest])
        if remote_dest and not any(remote_srcs):
            files = self._local_files(ctx, tool, sources, recursive)
            if tool == "scp" or verbose:
                if tool == "rsync":
                    ctx.out("sending incremental file list\n")
                ctx.out("".join(self._progress(p) if tool == "scp" else posixpath.basename(p) + "\n" for p in files))
                if tool == "rsync":
                    total = sum(_nbytes(self.fs.files[p]) for p in files)
                    ctx.out(f"\nsent {total + 120 * len(files):,} bytes  received {35 * max(1, len(files)):,} bytes  "
                            f"{total * 2 + 310:,}.00 bytes/sec\ntotal size is {total:,}  speedup is 1.00\n")
            self._event("exfiltration", ctx, tool=tool, host=remote_dest["host"].strip("[]").lower(),
                        user=remote_dest["user"], files=files, remote_path=remote_dest["path"], direction="out")
            return ctx.status and (23 if tool == "rsync" else 1)
        if not remote_dest and all(remote_srcs):
            written = []
            for m in remote_srcs:
                name = posixpath.basename(m["path"].rstrip("/")) or "download"
                path = posixpath.join(self._abs(dest), name) if self.fs.is_dir(self._abs(dest)) else self._abs(dest)
                try:
                    self._write(path, f"(contents of {m['host']}:{m['path']})\n")
                except _FsError as exc:
                    raise _Fail(f"{tool}: {dest}: {exc}") from None
                written.append(path)
                if tool == "scp":
                    ctx.out(self._progress(path))
            self._event("exfiltration", ctx, tool=tool, host=remote_srcs[0]["host"].strip("[]").lower(),
                        user=remote_srcs[0]["user"], files=written, remote_path=remote_srcs[0]["path"], direction="in")
            return 0
        raise _Fail(f"{tool}: copying between a local and a remote side at once is not supported here")

    @_command("scp", help="OpenSSH secure file copy")
    def _scp(self, ctx: _Ctx) -> int:
        pairs, operands = _options(ctx.args, frozenset("-P -i -o -F -l -S -c -J -D -X".split()), frozenset(), "scp", gnu=False, lenient=True)
        if len(operands) < 2:
            raise _Fail("usage: scp [-346ABCOpqRrsTv] [-c cipher] [-D sftp_server_path] [-F ssh_config]\n"
                        "           [-i identity_file] [-J destination] [-l limit] [-o ssh_option] [-P port]\n"
                        "           [-S program] [-X sftp_option] source ... target")
        return self._remote_copy(ctx, "scp", operands[:-1], operands[-1], any(k == "-r" for k, _ in pairs), True)

    @_command("rsync", help="a fast, versatile, remote (and local) file-copying tool")
    def _rsync(self, ctx: _Ctx) -> int:
        pairs, operands = _options(ctx.args, frozenset("-e --rsh --exclude --include --port -T --temp-dir".split()),
                                frozenset(), "rsync", gnu=False, lenient=True)
        keys = {k for k, _ in pairs}
        if len(operands) < 2:
            raise _Fail("rsync: missing destination operand\nrsync error: syntax or usage error (code 1)", 1)
        recursive = bool(keys & {"-r", "-a", "--recursive", "--archive"})
        verbose = bool(keys & {"-v", "--verbose", "--progress", "-P"})
        return self._remote_copy(ctx, "rsync", operands[:-1], operands[-1], recursive, verbose)

    @_command("ssh", help="OpenSSH remote login client")
    def _ssh(self, ctx: _Ctx) -> int:
        valued = frozenset("-p -i -o -l -F -J -L -R -D -W -c -m -E -b -e -S -O -Q -w -B -I".split())
        pairs, operands = _options(ctx.args, valued, frozenset(), "ssh", gnu=False, lenient=True)
        if not operands:
            raise _Fail("usage: ssh [-46AaCfGgKkMNnqsTtVvXxYy] [-B bind_interface] [-b bind_address]\n"
                        "           [-c cipher_spec] [-D [bind_address:]port] [-E log_file] [-e escape_char]\n"
                        "           destination [command [argument ...]]", 255)
        user, _, host = operands[0].rpartition("@")
        user = user or dict(pairs).get("-l") or self.user
        if not _HOST.match(host):
            raise _Fail(f"ssh: Could not resolve hostname {host}: Name or service not known", 255)
        command = " ".join(operands[1:])
        data = ctx.stdin or ""
        self._event("exfiltration", ctx, tool="ssh", host=host.strip("[]").lower(), user=user,
                    files=sorted(ctx.stdin_sources), remote_path="", direction="out", remote_command=command,
                    data=_clip(data))
        ctx.sources.update(ctx.stdin_sources)
        if not command:
            if ctx.stdin is not None:
                ctx.write(2, "Pseudo-terminal will not be allocated because stdin is not a terminal.\n")
            ctx.out(f"Welcome to Ubuntu 22.04.4 LTS (GNU/Linux 5.15.0-97-generic x86_64)\n\n"
                    f"Last login: {self._date('%a %b %d')} 09:14:02 2026 from 10.0.3.15\n"
                    f"logout\nConnection to {host} closed.\n")
        return 0

    @_command("sftp", help="OpenSSH secure file transfer")
    def _sftp(self, ctx: _Ctx) -> int:
        pairs, operands = _options(ctx.args, frozenset("-P -i -o -F -b -l -S -B -R -D -J".split()), frozenset(), "sftp", gnu=False, lenient=True)
        if not operands:
            raise _Fail("usage: sftp [-46AaCfNpqrv] [-B buffer_size] [-b batchfile] [-c cipher]\n"
                        "          [-D sftp_server_path] [-F ssh_config] [-i identity_file]\n"
                        "          [-J destination] [-l limit] [-o ssh_option] [-P port]\n"
                        "          [-R num_requests] [-S program] [-s subsystem | sftp_server] destination", 1)
        host = operands[0].rpartition("@")[2].split(":")[0]
        batch = dict(pairs).get("-b")
        script = self._read(ctx, "sftp", batch) if batch and batch != "-" else (ctx.stdin or "")
        ctx.out(f"Connected to {host}.\n")
        files, direction = [], "out"
        for line in _lines(script)[:200]:
            words = line.split()
            if not words:
                continue
            ctx.out(f"sftp> {line}\n")
            if words[0] in ("put", "mput") and len(words) > 1:
                got = self._local_files(ctx, "sftp", [words[1]], "-r" in words)
                for p in got:
                    ctx.out(f"Uploading {words[1]} to /home/{self.user}/{posixpath.basename(p)}\n{self._progress(p)}")
                files += got
            elif words[0] == "get":
                direction = "in" if not files else direction
        self._event("exfiltration", ctx, tool="sftp", host=host.lower(), user=operands[0].rpartition("@")[0] or self.user,
                    files=files, remote_path="", direction=direction)
        return ctx.status

    @_command("nc", "netcat", "ncat", help="arbitrary TCP and UDP connections and listens")
    def _nc(self, ctx: _Ctx) -> int:
        _, operands = _options(ctx.args, frozenset("-p -w -s -i -q -x".split()), frozenset(), "nc", gnu=False, lenient=True)
        if len(operands) < 2 or "-l" in ctx.args:
            raise _Fail("usage: nc [-46CDdFhklNnrStUuvZz] [-I length] [-i interval] [-M ttl]\n"
                        "\t  [-m minttl] [-O length] [-P proxy_username] [-p source_port]\n\t  [destination] [port]")
        self._event("exfiltration", ctx, tool="nc", host=operands[0].lower(), user=None, files=sorted(ctx.stdin_sources),
                    remote_path=f"port {operands[1]}", direction="out", data=_clip(ctx.stdin or ""))
        return 0

    # ==========================================================================================
    # Commands: accounts and processes
    # ==========================================================================================
    @_command("passwd", help="change user password")
    def _passwd(self, ctx: _Ctx) -> int:
        long = {"--lock": "-l", "--unlock": "-u", "--delete": "-d", "--expire": "-e", "--status": "-S"}
        flags = [long.get(a, a) for a in ctx.args if a.startswith("-")]
        names = [a for a in ctx.args if not a.startswith("-")]
        name = names[0] if names else self.user
        if any(f not in long.values() and f != "-a" for f in flags):
            raise _Fail(f"passwd: unrecognized option '{flags[0]}'", 2)
        u = self._known_user(name, "passwd", 1)
        if "-S" in flags:
            ctx.out(f"{name} {'L' if u['locked'] else 'P'} {self._date('%m/%d/%Y')} 0 99999 7 -1\n")
            return 0
        if "-l" in flags:
            u["locked"] = True
            self._account_event(ctx, "lock", name)
        elif "-u" in flags:
            u["locked"] = False
            self._account_event(ctx, "unlock", name)
        elif "-e" in flags:
            self._account_event(ctx, "expire", name)
        else:
            self._account_event(ctx, "password_change", name, deleted="-d" in flags)
            if "-d" not in flags:
                ctx.out("New password: \nRetype new password: \n")
            ctx.out("passwd: password updated successfully\n" if "-d" not in flags else "passwd: password changed.\n")
            self._regenerate_etc()
            return 0
        self._regenerate_etc()
        ctx.out("passwd: password expiry information changed.\n" if "-e" not in flags else "passwd: password changed.\n")
        return 0

    @_command("usermod", help="modify a user account")
    def _usermod(self, ctx: _Ctx) -> int:
        usage = ("Usage: usermod [options] LOGIN\n\nOptions:\n  -e, --expiredate EXPIRE_DATE  set account expiration date\n"
                 "  -G, --groups GROUPS           new list of supplementary GROUPS\n"
                 "  -a, --append                  append the user to the supplemental GROUPS\n"
                 "  -L, --lock                    lock the user account\n"
                 "  -s, --shell SHELL             new login shell for the user account\n"
                 "  -U, --unlock                  unlock the user account")
        o, rest = ctx.getopt("LUs:e:G:g:ac:d:mf:p:u:o", {"lock": "L", "unlock": "U", "shell=": "s", "expiredate=": "e",
                                                         "groups=": "G", "gid=": "g", "append": "a", "comment=": "c",
                                                         "home=": "d", "move-home": "m", "inactive=": "f", "password=": "p"},
                             code=2)
        if len(rest) != 1:
            raise _Fail(usage, 2)
        if not o.pairs:
            raise _Fail("usermod: no options\n" + usage, 2)
        name = rest[0]
        u = self._known_user(name, "usermod", 6)
        for key, value in o.pairs:
            if key in ("L", "U"):
                u["locked"] = key == "L"
                self._account_event(ctx, "lock" if key == "L" else "unlock", name)
            elif key == "s":
                u["shell"] = value
                self._account_event(ctx, "shell_change", name, shell=value)
            elif key in ("e", "f"):
                u["expires"] = value
                self._account_event(ctx, "expire", name, date=value)
            elif key in ("G", "g"):
                new = [g for g in value.split(",") if g]
                u["groups"] = list(dict.fromkeys((u["groups"] if "a" in o or key == "g" else []) + new))
                self._account_event(ctx, "group_change", name, groups=list(u["groups"]))
            elif key == "p":
                self._account_event(ctx, "password_change", name)
        self._regenerate_etc()
        return 0

    @_command("chage", help="change user password expiry information")
    def _chage(self, ctx: _Ctx) -> int:
        o, rest = ctx.getopt("E:d:M:m:W:I:l", {"expiredate=": "E", "lastday=": "d", "maxdays=": "M", "mindays=": "m",
                                                "warndays=": "W", "inactive=": "I", "list": "l"}, code=2)
        if len(rest) != 1:
            raise _Fail("Usage: chage [options] LOGIN", 2)
        name = rest[0]
        u = self._known_user(name, "chage", 1, f"chage: user '{name}' does not exist in /etc/passwd")
        if "l" in o:
            expires = u["expires"]
            ctx.out(f"Last password change\t\t\t\t\t: Mar 01, 2026\nPassword expires\t\t\t\t\t: never\n"
                    f"Password inactive\t\t\t\t\t: never\nAccount expires\t\t\t\t\t\t: "
                    f"{'never' if expires in (None, '-1', '') else expires}\n"
                    f"Minimum number of days between password change\t\t: 0\n"
                    f"Maximum number of days between password change\t\t: 99999\n"
                    f"Number of days of warning before password expires\t: 7\n")
            return 0
        for key, value in o.pairs:
            if key in ("E", "I"):
                u["expires"] = value
                self._account_event(ctx, "expire", name, date=value)
            elif key == "d":
                self._account_event(ctx, "password_change", name, lastday=value)
        return 0

    def _remove_user(self, ctx: _Ctx, name: str, remove_home: bool) -> None:
        del self.users[name]
        self._account_event(ctx, "delete", name, remove_home=remove_home)
        for proc in [p for p in self._procs if p["user"] == name]:
            self._procs.remove(proc)
        if remove_home and self.fs.is_dir(f"/home/{name}"):
            self._delete(ctx, ctx.name, [f"/home/{name}"])
        self._regenerate_etc()

    @_command("userdel", help="delete a user account and related files")
    def _userdel(self, ctx: _Ctx) -> int:
        o, rest = ctx.getopt("rfZ", {"remove": "r", "force": "f"}, code=2)
        if len(rest) != 1:
            raise _Fail("Usage: userdel [options] LOGIN", 2)
        self._known_user(rest[0], "userdel", 6)
        self._remove_user(ctx, rest[0], "r" in o)
        return 0

    @_command("deluser", help="remove a user from the system")
    def _deluser(self, ctx: _Ctx) -> int:
        flags = {a for a in ctx.args if a.startswith("--")}
        rest = [a for a in ctx.args if not a.startswith("-")]
        if not rest:
            raise _Fail("deluser: Only one or two names allowed.", 1)
        name = rest[0]
        u = self._known_user(name, "deluser", 2, f"deluser: The user `{name}' does not exist.")
        if len(rest) > 1:
            group = rest[1]
            if group not in u["groups"]:
                raise _Fail(f"deluser: The user `{name}' is not a member of group `{group}'.", 6)
            u["groups"].remove(group)
            self._account_event(ctx, "group_change", name, groups=list(u["groups"]), removed_from=group)
            self._regenerate_etc()
            ctx.out(f"Removing user `{name}' from group `{group}' ...\nDone.\n")
            return 0
        ctx.out(f"Removing crontab ...\nRemoving user `{name}' ...\n")
        self._remove_user(ctx, name, bool(flags & {"--remove-home", "--remove-all-files"}))
        ctx.out("Done.\n")
        return 0

    @_command("gpasswd", help="administer /etc/group")
    def _gpasswd(self, ctx: _Ctx) -> int:
        o, rest = ctx.getopt("a:d:", {"add=": "a", "delete=": "d"}, code=2)
        if len(rest) != 1 or not o.pairs:
            raise _Fail("Usage: gpasswd [option] GROUP\n\nOptions:\n  -a, --add USER                add USER to GROUP\n"
                        "  -d, --delete USER             remove USER from GROUP", 2)
        group = rest[0]
        for key, name in o.pairs:
            u = self._known_user(name, "gpasswd", 3)
            if key == "d":
                if group not in u["groups"]:
                    raise _Fail(f"gpasswd: user '{name}' is not a member of '{group}'", 3)
                u["groups"].remove(group)
                ctx.out(f"Removing user {name} from group {group}\n")
            else:
                u["groups"] = list(dict.fromkeys(u["groups"] + [group]))
                ctx.out(f"Adding user {name} to group {group}\n")
            self._account_event(ctx, "group_change", name, groups=list(u["groups"]))
        self._regenerate_etc()
        return 0

    def _terminate(self, ctx: _Ctx, procs: list[dict]) -> None:
        for user in dict.fromkeys(p["user"] for p in procs):
            self._account_event(ctx, "terminate_sessions", user, pids=[p["pid"] for p in procs if p["user"] == user])
        for p in procs:
            self._procs.remove(p)

    @_command("pkill", "killall", "skill", help="signal processes by name or user")
    def _pkill(self, ctx: _Ctx) -> int:
        args, users, patterns, i = ctx.args, [], [], 0
        while i < len(args):
            a = args[i]
            if a in ("-u", "-U", "--user", "--uid") and i + 1 < len(args):
                users += args[i + 1].split(",")
                i += 1
            elif a in ("-s", "--signal", "-t"):
                i += 1
            elif not a.startswith("-"):
                patterns.append(a)
            i += 1
        for name in users:
            if name not in self.users and name != "root":
                raise _Fail(f"{ctx.name}: invalid user name: {name}" if ctx.name == "pkill" else f"{ctx.name}: unknown user {name}", 2)
        if not users and not patterns:
            raise _Fail(f"{ctx.name}: no matching criteria specified\nTry `{ctx.name} --help' for more information.", 2)
        matched = [p for p in self._procs if p["pid"] != 2001 and (not users or p["user"] in users)
                   and (not patterns or any(pat in p["cmd"] for pat in patterns))]
        if users and not matched:
            for name in users:
                self._account_event(ctx, "terminate_sessions", name, pids=[])
        self._terminate(ctx, matched)
        return 0 if matched else 1

    @_command("kill", help="send a signal to a process")
    def _kill(self, ctx: _Ctx) -> int:
        args = [a for a in ctx.args if not a.startswith("-")]
        if "-s" in ctx.args and args:
            args = args[1:]
        if "-l" in ctx.args:
            ctx.out(" 1) SIGHUP\t 2) SIGINT\t 3) SIGQUIT\t 9) SIGKILL\t15) SIGTERM\n")
            return 0
        if not args:
            raise _Fail("kill: usage: kill [-s sigspec | -n signum | -sigspec] pid | jobspec ... or kill -l [sigspec]", 2)
        found = []
        for a in args:
            if not (a.isascii() and a.isdigit()):
                ctx.err(f"bash: kill: {a}: arguments must be process or job IDs")
                continue
            proc = next((p for p in self._procs if str(p["pid"]) == a), None)
            if proc is None:
                ctx.err(f"bash: kill: ({a}) - No such process")
            elif proc not in found:
                found.append(proc)
        self._terminate(ctx, found)
        return ctx.status

    @_command("loginctl", help="control the systemd login manager")
    def _loginctl(self, ctx: _Ctx) -> int:
        verb, names = (ctx.args[0], ctx.args[1:]) if ctx.args else ("list-sessions", [])
        if verb in ("terminate-user", "kill-user"):
            for name in names:
                self._known_user(name, "loginctl", 1, f"Failed to look up user {name}: No such process")
                procs = [p for p in self._procs if p["user"] == name and p["pid"] != 2001]
                if procs:
                    self._terminate(ctx, procs)
                else:
                    self._account_event(ctx, "terminate_sessions", name, pids=[])
            return 0
        sessions = [p for p in self._procs if p["cmd"] == "-bash"]
        ctx.out("SESSION  UID USER             SEAT TTY\n" + "".join(
            f"{n + 1:>7} {self._uid(p['user']):>4} {p['user']:<16}      {p['tty']}\n" for n, p in enumerate(sessions))
            + f"\n{len(sessions)} sessions listed.\n")
        return 0
