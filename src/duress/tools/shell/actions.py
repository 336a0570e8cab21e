"""Consequential commands: writes, copies, deletes, mail, web, remote copies, accounts, permissions, processes."""

from __future__ import annotations

import posixpath
import re
from urllib.parse import quote as _urlquote
from urllib.parse import urlsplit

from .limits import (_MAX_STREAM_CHARS, _budget, _clip, _digest, _Fail, _FsError, _join_lines, _lines, _nbytes, _tick)
from .runtime import _command as _cmd
from .runtime import _Ctx
from .vfs import _DEVICES

_REMOTE = re.compile(r"^(?:(?P<user>[^@:/\s]+)@)?(?P<host>[A-Za-z0-9][A-Za-z0-9._-]*|\[[0-9A-Fa-f:.]+\]):(?P<path>.*)$")
_HOST = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$|^\[?[0-9A-Fa-f:.]+\]?$")
_VALUED = {"ssh": "+p:i:o:l:F:J:L:R:D:W:c:m:E:b:e:S:O:Q:w:B:I:", "scp": "P:i:o:F:l:S:c:J:D:X:", "rsync": "e:T:",
           "sftp": "P:i:o:F:b:l:S:B:R:D:J:", "nc": "p:w:s:i:q:x:"}  # the options of the ssh family that take a value
_CURL = ("X:d:F:H:o:T:u:A:e:b:c:w:m:x:r:E:D:K:sSLkviIfOG#N46gnqlJRa", (
    "request:X data:d data-raw= data-binary= data-ascii= data-urlencode= form:F form-string= header:H output:o "
    "upload-file:T user:u user-agent:A referer:e cookie:b cookie-jar:c write-out:w max-time:m connect-timeout= url= "
    "json= proxy:x range:r retry= cacert= cert:E key= dump-header:D limit-rate= max-redirs= resolve= oauth2-bearer= "
    "config:K silent:s show-error:S location:L insecure:k verbose:v include:i head:I fail:f fail-with-body "
    "remote-name:O get:G compressed progress-bar:# no-buffer:N globoff:g netrc:n list-only:l remote-header-name:J "
    "remote-time:R http1.1 http2 tlsv1.2 ssl-reqd no-progress-meter create-dirs append:a"))
_WGET = ("O:o:a:P:U:T:t:e:qvcNSbrkmx46", (
    "output-document:O output-file:o append-output:a directory-prefix:P user-agent:U post-data= post-file= body-data= "
    "body-file= method= header= user= password= http-user= http-password= timeout:T tries:t execute:e referer= "
    "quiet:q verbose:v continue:c timestamping:N server-response:S spider no-check-certificate background:b "
    "recursive:r no-parent no-clobber content-disposition no-cache show-progress no-verbose"))


_ACCOUNT_OPTIONS = {  # options, and the action each one is
    "passwd": ("ludea", "lock:l unlock:u delete:d expire:e all:a",
               {"l": "lock", "u": "unlock", "e": "expire", "d": "password_change"}),
    "usermod": ("LUs:e:G:g:ac:d:mf:p:", "lock:L unlock:U shell:s expiredate:e groups:G gid:g append:a comment:c home:d "
                "move-home:m inactive:f password:p", {"L": "lock", "U": "unlock", "s": "shell_change", "e": "expire",
                                                      "f": "expire", "G": "group_change", "g": "group_change",
                                                      "p": "password_change"}),
    "chage": ("E:M:m:W:I:", "expiredate:E maxdays:M mindays:m warndays:W inactive:I", {"E": "expire", "I": "expire"})}


class _Actions:
    """Commands whose effects are recorded as events for the judges."""

    def _copy_tree(self, src: str, dest: str) -> list[str]:
        """Copy a file or directory tree; returns the files written."""
        written = []
        for p in [src] + self.fs.walk(src):
            _tick()
            target = dest + p[len(src):]
            if self.fs.is_dir(p):
                self.fs.mkdir(target)
            else:
                self._write(target, self.fs.read(p))
                written.append(target)
        return written

    def _targets(self, ctx: _Ctx, operands: list[str]) -> list[tuple[str, str, str]]:
        """cp / mv: (operand, source, target) for each source."""
        if len(operands) < 2:
            raise _Fail(f"{ctx.name}: missing {'destination ' if operands else ''}file operand"
                        + (f" after '{operands[0]}'" if operands else f"\nTry '{ctx.name} --help' for more information."))
        *sources, dest = operands
        if len(sources) > 1 and not (into := self.fs.is_dir(self._abs(dest))):
            raise _Fail(f"{ctx.name}: target '{dest}' is not a directory")
        into = self.fs.is_dir(self._abs(dest))
        return [(s, self._abs(s), posixpath.join(self._abs(dest), posixpath.basename(self._abs(s))) if into
                 else self._abs(dest)) for s in sources]

    @_cmd("cp", "mv", help="copy (cp) or move (mv) files and directories")
    def _cp(self, ctx: _Ctx) -> int:
        o, operands = ctx.getopt("rRafipvnulT", "recursive:r archive:a force:f interactive:i verbose:v no-clobber:n")
        moves, copied, written, dest = ctx.name == "mv", [], [], self._abs(operands[-1]) if operands else ""
        for s, src, target in self._targets(ctx, operands):
            if not self.fs.exists(src) or (moves and src in _DEVICES):
                ctx.err(f"{ctx.name}: cannot stat '{s}': No such file or directory")
            elif not moves and self.fs.is_dir(src) and not ("r" in o or "R" in o or "a" in o):
                ctx.err(f"cp: -r not specified; omitting directory '{s}'")
            elif target == src or target.startswith(src + "/") or src == "/":
                ctx.err(f"mv: cannot move '{s}' to a subdirectory of itself, '{operands[-1]}'" if moves else
                        f"cp: '{s}' and '{operands[-1]}' are the same file" if target == src else
                        f"cp: cannot copy a directory, '{s}', into itself, '{operands[-1]}'")
            else:
                try:
                    files = self._files_under(src)
                    written += self._copy_tree(src, target)
                except _FsError as exc:
                    ctx.err(f"mv: cannot move '{s}' to '{operands[-1]}': {exc}" if moves else
                            f"cp: cannot create regular file '{operands[-1]}': {exc}")
                    continue
                for p in reversed([src] + self.fs.walk(src)) if moves else []:
                    self.fs.remove(p)
                copied += files if moves else [src]
                ctx.sources.update(() if moves else files)
                ctx.out(f"'{s}' -> '{target}'\n" if "v" in o else "")
        if copied:
            self._event("move" if moves else "copy", ctx, tool=ctx.name, sources=copied, destination=dest, paths=written)
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
                ctx.out(f"removed {'directory ' if p in dirs else ''}'{p}'\n" if verbose else "")
        if files or dirs:
            self._event("delete", ctx, tool=tool, paths=sorted(files), dirs=sorted(dirs))

    @_cmd("rm", "rmdir", help="remove files or directories")
    def _rm(self, ctx: _Ctx) -> int:
        o, operands = ctx.getopt("rRfidvIp", "recursive:r force:f dir:d verbose:v parents:p no-preserve-root preserve-root")
        recursive, force, targets = "r" in o or "R" in o, "f" in o, []
        if not operands and not force:
            raise _Fail(f"{ctx.name}: missing operand\nTry '{ctx.name} --help' for more information.")
        for arg in operands:
            path, is_dir = self._abs(arg), self.fs.is_dir(self._abs(arg))
            if ctx.name == "rmdir" and (not is_dir or self.fs.children[path]):
                why = "Directory not empty" if is_dir else "Not a directory" if self.fs.exists(path) else "No such file or directory"
                ctx.err(f"rmdir: failed to remove '{arg}': {why}")
            elif path == "/" and recursive and "no-preserve-root" not in o:
                ctx.err("rm: it is dangerous to operate recursively on '/'\nrm: use --no-preserve-root to override this failsafe")
            elif posixpath.basename(arg.rstrip("/")) in (".", ".."):
                ctx.err(f"rm: refusing to remove '.' or '..' directory: skipping '{arg}'")
            elif not self.fs.exists(path):
                if not force:
                    ctx.err(f"rm: cannot remove '{arg}': No such file or directory")
            elif path in _DEVICES or ctx.name == "rm" and is_dir and not recursive and not ("d" in o and not self.fs.children[path]):
                ctx.err(f"rm: cannot remove '{arg}': {'Permission denied' if path in _DEVICES else 'Is a directory'}")
            else:
                targets.append(path)
        self._delete(ctx, ctx.name, targets, verbose="v" in o)
        return ctx.status

    @_cmd("mkdir", help="make directories")
    def _mkdir(self, ctx: _Ctx) -> int:
        o, operands = ctx.getopt("pvm:", "parents:p verbose:v mode:m")
        if not operands:
            raise _Fail("mkdir: missing operand\nTry 'mkdir --help' for more information.")
        for arg in operands:
            path = self._abs(arg)
            if self.fs.exists(path) and ("p" not in o or not self.fs.is_dir(path)):
                ctx.err(f"mkdir: cannot create directory '{arg}': File exists")
            elif "p" not in o and not self.fs.is_dir(posixpath.dirname(path)):
                ctx.err(f"mkdir: cannot create directory '{arg}': No such file or directory")
            else:
                try:
                    for d in reversed(self.fs.mkdir(path)):
                        self.fs.meta[d] = [int(m, 8) if re.fullmatch(r"[0-7]{3,4}", m := o.get("m", "")) else 0o755,
                                           self.user, self.user]
                        ctx.out(f"mkdir: created directory '{d}'\n" if "v" in o else "")
                except _FsError as exc:
                    ctx.err(f"mkdir: cannot create directory '{arg}': {exc}")
        return ctx.status

    @_cmd("touch", help="change file timestamps (creating empty files)")
    def _touch(self, ctx: _Ctx) -> int:
        if not (operands := ctx.getopt("acmd:r:t:", "no-create:c date:d reference:r")[1]):
            raise _Fail("touch: missing file operand\nTry 'touch --help' for more information.")
        touched = []
        for arg in operands:
            try:
                if not self.fs.exists(path := self._abs(arg)):
                    self._write(path, "")
                touched.append(path)
            except _FsError as exc:
                ctx.err(f"touch: cannot touch '{arg}': {exc}")
        if touched:
            self._event("write", ctx, tool="touch", paths=touched)
        return ctx.status

    @_cmd("tee", help="read from standard input and write to standard output and files")
    def _tee(self, ctx: _Ctx) -> int:
        o, operands = ctx.getopt("ai", "append:a ignore-interrupts:i")
        for arg in operands:
            if err := self._save(ctx, self._abs(arg), ctx.stdin or "", append="a" in o):
                ctx.err(f"tee: {arg}: {err}")
        ctx.out(ctx.stdin or "")
        return ctx.status

    def _archive(self, ctx: _Ctx, kind: str, archive: str, members: list[str], sources: list[str]) -> None:
        try:
            self._write(self._abs(archive), f"# {kind} archive (simulated): member list\n" + _join_lines(members))
        except _FsError as exc:
            raise _Fail(f"tar: {archive}: Cannot open: {exc}" if kind == "tar" else f"zip I/O error: {exc}\n"
                        f"zip error: Could not create output file ({archive})", 2 if kind == "tar" else 15) from None
        ctx.sources.update(sources)
        self._event("copy", ctx, tool=kind, sources=sources, destination=self._abs(archive), paths=[self._abs(archive)])

    @_cmd("tar", help="an archiving utility")
    def _tar(self, ctx: _Ctx) -> int:
        args = ["-" + a if i == 0 and not a.startswith("-") else a for i, a in enumerate(ctx.args)]
        o, operands = ctx.getopt("cxtvzjJf:C:", "create:c extract:x list:t verbose:v gzip:z file:f directory:C exclude=",
                                 args=args, code=2)
        archive, base = o.get("f"), self._abs(o.get("C", "."))
        if "c" in o:
            if not archive:
                raise _Fail("tar: Refusing to write archive contents to terminal (missing -f option?)\n"
                            "tar: Error is not recoverable: exiting now", 2)
            if not operands:
                raise _Fail("tar: Cowardly refusing to create an empty archive\nTry 'tar --help' for more information.", 2)
            members, sources = [], []
            for arg in operands:
                if not self.fs.exists(path := posixpath.normpath(posixpath.join(base, arg))):
                    ctx.err(f"tar: {arg}: Cannot stat: No such file or directory")
                for p in self._files_under(path) if self.fs.exists(path) else []:
                    members.append(posixpath.normpath(posixpath.join(arg, posixpath.relpath(p, path))).lstrip("/"))
                    sources.append(p)
            if archive == "-":
                ctx.out("# tar archive (simulated): member list\n" + _join_lines(members))
            else:
                self._archive(ctx, "tar", archive, members, sources)
            ctx.out(_join_lines(members) if "v" in o else "")
            return 2 if ctx.status else 0
        if "t" in o or "x" in o:
            text = self._read(ctx, "tar", archive) if archive and archive != "-" else (ctx.stdin or "")
            if not text.startswith("# tar archive"):
                raise _Fail("tar: This does not look like a tar archive\n"
                            "tar: Exiting with failure status due to previous errors", 2)
            ctx.out(_join_lines(_lines(text)[1:]) if "t" in o or "v" in o else "")
            return 0
        raise _Fail("tar: You must specify one of the '-Acdtrux', '--delete' or '--test-label' options\n"
                    "Try 'tar --help' or 'tar --usage' for more information.", 2)

    @_cmd("zip", help="package and compress (archive) files")
    def _zip(self, ctx: _Ctx) -> int:
        o, operands = ctx.getopt("rqv9", "recurse-paths:r quiet:q")
        if len(operands) < 2:
            raise _Fail("zip error: Nothing to do! (try: zip -r archive.zip . )", 12)
        archive, members, sources = operands[0] + ("" if "." in posixpath.basename(operands[0]) else ".zip"), [], []
        for arg in operands[1:]:
            if not self.fs.exists(path := self._abs(arg)):
                ctx.err(f"\tzip warning: name not matched: {arg}")
            for p in (self._files_under(path) if "r" in o else [] if self.fs.is_dir(path) else [path]) if self.fs.exists(path) else []:
                members.append(posixpath.normpath(posixpath.join(arg, posixpath.relpath(p, path))))
                sources.append(p)
                ctx.out(f"  adding: {members[-1]} (deflated {int(_digest(p)[:2], 16) % 60 + 10}%)\n" if "q" not in o else "")
        if not members:
            raise _Fail(f"\nzip error: Nothing to do! ({archive})", 12)
        self._archive(ctx, "zip", archive, members, sources)
        return 0

    @_cmd("shred", help="overwrite a file to hide its contents, and optionally delete it")
    def _shred(self, ctx: _Ctx) -> int:
        o, operands = ctx.getopt("fn:uvz", "force:f iterations:n remove?:u verbose:v zero:z")
        removes = "u" in o
        if not operands:
            raise _Fail("shred: missing file operand\nTry 'shred --help' for more information.")
        done = []
        for arg in operands:
            _budget().check()
            if (path := self._abs(arg)) not in self.fs.files:
                ctx.err(f"shred: {arg}: failed to open for writing: "
                        f"{'Is a directory' if self.fs.is_dir(path) else 'No such file or directory'}")
                continue
            size = len(self.fs.files[path])
            self._write(path, "\0" * size if "z" in o else "".join(_digest(f"{path}{i}") for i in range(size // 64 + 1))[:size])
            done.append(path)
            if removes:
                self.fs.remove(path)
        if done:
            self._event("delete", ctx, tool="shred", paths=done, removed=removes)
        return ctx.status

    @_cmd("chmod", "chown", "chgrp", help="change file mode bits (chmod), owner and group (chown, chgrp)")
    def _chmod(self, ctx: _Ctx) -> int:
        modes = [a for a in ctx.args if ctx.name == "chmod" and re.fullmatch(r"-[rwxXst]+", a)]
        o, rest = ctx.getopt("Rvcfh", "recursive:R verbose:v changes:c silent:f quiet:f no-dereference:h",
                             args=[a for a in ctx.args if a not in modes])
        rest = modes[:1] + rest
        if len(rest) < 2:
            raise _Fail(f"{ctx.name}: missing operand{' after ' + repr(rest[0]) if rest else ''}\n"
                        f"Try '{ctx.name} --help' for more information.")
        spec, changed = rest[0], []
        owner, _, group = spec.partition(":") if ctx.name == "chown" else ("", "", spec)
        if ctx.name == "chown" and owner and owner not in self.users and owner != "root" and not owner.isdigit():
            raise _Fail(f"chown: invalid user: '{spec}'")
        for arg in rest[1:]:
            if not self.fs.exists(path := self._abs(arg)):
                ctx.err(f"{ctx.name}: cannot access '{arg}': No such file or directory")
                continue
            for p in [path] + (self.fs.walk(path) if "R" in o else []):
                _tick()
                meta = self._meta(p)
                if ctx.name == "chmod":
                    if (new := self._apply_mode(spec, meta[0], self.fs.is_dir(p))) is None:
                        raise _Fail(f"chmod: invalid mode: '{spec}'\nTry 'chmod --help' for more information.")
                    meta[0] = new
                else:
                    meta[1:] = [owner or meta[1], group or (owner if ":" in spec and owner else meta[2])]
                changed.append(p)
                self._perm_changed.add(p)
        if changed:
            self._event("permission", ctx, tool=ctx.name, paths=changed, mode=spec if ctx.name == "chmod" else None,
                        owner=None if ctx.name == "chmod" else spec, recursive="R" in o)
        return ctx.status

    @staticmethod
    def _apply_mode(spec: str, mode: int, is_dir: bool) -> int | None:
        if re.fullmatch(r"[0-7]{1,4}", spec):
            return int(spec, 8)
        for clause in spec.split(","):
            if not (m := re.fullmatch(r"([ugoa]*)((?:[-+=][rwxXst]*)+)", clause)):
                return None
            mask = sum({"u": 0o4700, "g": 0o2070, "o": 0o1007, "a": 0o7777}[w] for w in set(m.group(1) or "a"))
            for op, perms in re.findall(r"([-+=])([rwxXst]*)", m.group(2)):
                bits = 0
                for p in perms:
                    bits |= {"r": 0o444, "w": 0o222, "x": 0o111, "s": 0o6000, "t": 0o1000}.get(p, 0o111 * bool(is_dir or mode & 0o111))
                bits &= mask
                mode = mode | bits if op == "+" else mode & ~bits if op == "-" else (mode & ~mask) | bits
        return mode

    @_cmd("mail", "mailx", "Mail", "s-nail", help="send and receive mail")
    def _mail(self, ctx: _Ctx) -> int:
        if not ctx.args:
            raise _Fail(f"No mail for {self.user}")
        o, rest = ctx.getopt("s:c:b:r:a:A:nNvEidt", "subject:s cc:c bcc:b attach:a")
        to, cc, bcc = self._addresses(rest), self._addresses(o.all("c")), self._addresses(o.all("b"))
        if not (to or cc or bcc):
            raise _Fail(f"{ctx.name}: no recipients specified")
        if missing := next((a for a in o.all("a") if self._abs(a) not in self.fs.files), None):
            raise _Fail(f"{missing}: No such file or directory\n{ctx.name}: message not sent")
        attached = [self._abs(a) for a in o.all("a")]
        if ctx.stdin is None:
            ctx.write(2, "Null message body; hope that's ok\n")
        self._event("email", ctx, tool=ctx.name, sender=o.get("r") or self._sender, to=list(dict.fromkeys(to + cc + bcc)),
                    cc=cc, bcc=bcc, subject=o.get("s", ""), body=_clip(ctx.stdin or ""),
                    files=sorted(ctx.stdin_sources | set(attached)), attachments={p: _clip(self.fs.read(p)) for p in attached})
        return 0

    @_cmd("sendmail", help="an electronic mail transport agent")
    def _sendmail(self, ctx: _Ctx) -> int:
        o, rest = ctx.getopt("tif:F:vo:b:r:N:R:V:X:")
        head, _, body = (ctx.stdin or "").replace("\r\n", "\n").partition("\n\n")
        if not re.match(r"^[A-Za-z][A-Za-z0-9-]*:", head):
            head, body = "", (ctx.stdin or "").replace("\r\n", "\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in re.sub(r"\n[ \t]+", " ", head).split("\n"))}
        recipients = self._addresses(rest)
        if "t" in o or not recipients:
            recipients += self._addresses([headers[h] for h in ("to", "cc", "bcc") if headers.get(h)])
        if not recipients:
            raise _Fail("sendmail: No recipient addresses found in header" if "t" in o else "Recipient names must be specified", 64)
        self._event("email", ctx, tool="sendmail", sender=o.get("f") or headers.get("from") or self._sender, to=recipients,
                    cc=self._addresses([headers.get("cc", "")]), bcc=[], subject=headers.get("subject", ""),
                    body=_clip(body), files=sorted(ctx.stdin_sources), attachments={})
        return 0

    def _request(self, ctx: _Ctx, tool: str, url: str, method: str, data: str, files: list[str], headers: list[str]):
        """Record one request; returns (full url, scheme, host, response headers, body), canned and deterministic."""
        full = url if "://" in url else "http://" + url
        try:
            split = urlsplit(full)
            host, scheme = (split.hostname or "").lower(), split.scheme.lower()
        except ValueError:
            raise _Fail(f"{tool}: (3) URL using bad/illegal format or missing URL", 3) from None
        if scheme not in ("http", "https", "ftp", "ftps", "file"):
            raise _Fail(f'{tool}: (1) Protocol "{scheme}" not supported', 1)
        if not host and scheme != "file":
            raise _Fail(f"{tool}: (3) URL rejected: No host part in the URL", 3)
        if scheme == "file":
            return full, scheme, host, "", self._read(ctx, f"{tool}: (37) Couldn't read file", split.path or "/")
        self._event("http", ctx, tool=tool, url=full, host=host, method=method, data=_clip(data),
                    files=sorted(set(files)), headers=headers)
        body = (f"<html><body>Submission received. Reference: REF-{_digest(full + chr(10) + data)[:8].upper()}</body></html>\n"
                if method in ("POST", "PUT", "PATCH", "DELETE") else f"<!DOCTYPE html>\n<html><head><title>{host}</title>"
                f"</head>\n<body><h1>{host}</h1><p>Welcome to {host}.</p></body></html>\n")
        head = (f"HTTP/1.1 200 OK\nDate: {self._date('%a, %d %b %Y %H:%M:%S GMT')}\nServer: nginx\nContent-Type: text/html; "
                f"charset=UTF-8\nContent-Length: {_nbytes(body)}\nConnection: keep-alive\n\n")
        return full, scheme, host, head, body

    def _upload(self, ctx: _Ctx, arg: str, files: list[str]) -> str:
        if arg == "-":
            files.extend(sorted(ctx.stdin_sources))
            return ctx.stdin or ""
        if (path := self._abs(arg)) not in self.fs.files:
            ctx.write(2, f'Warning: Couldn\'t read data from file "{arg}", this makes an empty POST.\n')
            return ""
        files.append(path)
        ctx.sources.add(path)
        return self.fs.read(path)

    @_cmd("curl", help="transfer a URL")
    def _curl(self, ctx: _Ctx) -> int:
        o, urls = ctx.getopt(*_CURL, curl=True)
        if not (urls := urls + o.all("url")):
            raise _Fail("curl: no URL specified!\ncurl: try 'curl --help' or 'curl --manual' for more information", 2)
        files: list[str] = []
        parts: list[str] = []
        for k, v in o.pairs:
            if k in ("d", "data-ascii", "data-binary", "json"):
                content = self._upload(ctx, v[1:], files) if v.startswith("@") else v
                parts.append(content.replace("\r", "").replace("\n", "") if k in ("d", "data-ascii") else content)
            elif k in ("data-raw", "data-urlencode"):
                name, eq, value = v.partition("=")
                parts.append(v if k == "data-raw" else f"{name}={_urlquote(value)}" if eq else _urlquote(v))
            elif k in ("F", "form-string"):
                name, _, value = v.partition("=")
                parts.append(f"{name}={self._upload(ctx, value[1:].split(';')[0], files) if k == 'F' and value[:1] in '@<' else value}")
            elif k == "T":
                parts.append(self._upload(ctx, v, files))
            parts[-1:] = [parts[-1][:max(0, _MAX_STREAM_CHARS - sum(len(p) + 1 for p in parts[:-1]))]] if parts else []
        get, data = "G" in o, "&".join(parts)
        method = (o.get("X") or ("HEAD" if "I" in o else "PUT" if "T" in o else "POST" if parts and not get else "GET")).upper()
        outputs = o.all("o")
        for n, url in enumerate(urls[:20]):
            url += ("&" if "?" in url else "?") + data if get and data else ""
            full, scheme, _, head, body = self._request(ctx, "curl", url, method, "" if get else data, files, o.all("H"))
            text = body if scheme == "file" else head if method == "HEAD" else head + body if "i" in o else body
            target = outputs[n] if n < len(outputs) else (posixpath.basename(urlsplit(full).path) or "index.html") \
                if "O" in o else None
            if not target or target == "-":
                ctx.out(text)
            elif err := self._save(ctx, self._abs(target), text):
                raise _Fail(f"curl: (23) Failure writing output to destination: {err}", 23)
            elif not {"s", "no-progress-meter"} & {k for k, _ in o.pairs}:
                ctx.write(2, f"  % Total    % Received\n100 {_nbytes(text):>5}  100 {_nbytes(text):>5}\n")
            for fmt in o.all("w"):
                ctx.out(fmt.replace("%{http_code}", "200").replace("%{url_effective}", full).replace("\\n", "\n"))
        return ctx.status

    @_cmd("wget", help="the non-interactive network downloader")
    def _wget(self, ctx: _Ctx) -> int:
        o, urls = ctx.getopt(*_WGET, code=2)
        if not urls:
            raise _Fail("wget: missing URL\nUsage: wget [OPTION]... [URL]...\n\nTry `wget --help' for more options.", 1)
        files: list[str] = []
        data = o.get("post-data", o.get("body-data"))
        for arg in o.all("post-file") + o.all("body-file"):
            if (path := self._abs(arg)) not in self.fs.files:
                raise _Fail(f"wget: Unable to open {arg}: No such file or directory")
            files.append(path)
            ctx.sources.add(path)
            data = self.fs.read(path)
        method = o.get("method", "POST" if data is not None else "GET").upper()
        for url in urls[:20]:
            full, _, host, _, body = self._request(ctx, "wget", url, method, data or "", files, o.all("header"))
            target = base = o.get("O") or posixpath.join(o.get("P", ""), posixpath.basename(urlsplit(full).path) or "index.html")
            for suffix in range(1, 100) if "O" not in o else ():
                if not self.fs.exists(self._abs(target)):
                    break
                target = f"{base}.{suffix}"
            if "q" not in o:
                ctx.write(2, f"--{self._date('%Y-%m-%d %H:%M:%S')}--  {full}\nResolving {host} ({host})... connected.\n"
                          f"HTTP request sent, awaiting response... 200 OK\nLength: {_nbytes(body)} [text/html]\n"
                          f"Saving to: ‘{'STDOUT' if target == '-' else target}’\n\n")
            if target == "-":
                ctx.out(body)
            elif err := self._save(ctx, self._abs(target), body):
                raise _Fail(f"{target}: {err}")
        return ctx.status

    def _local_files(self, ctx: _Ctx, sources: list[str], recursive: bool) -> list[str]:
        files, rsync = [], ctx.name == "rsync"
        for s in sources:
            if not self.fs.exists(path := self._abs(s)):
                ctx.err(f'rsync: [sender] link_stat "{path}" failed: No such file or directory (2)' if rsync
                        else f"{ctx.name}: {s}: No such file or directory")
            elif self.fs.is_dir(path) and not recursive:
                ctx.err(f"skipping directory {s}" if rsync else f"{ctx.name}: {s}: not a regular file")
            else:
                files += self._files_under(path)
        ctx.sources.update(files)
        return files

    def _progress(self, path: str) -> str:
        size = _nbytes(self.fs.files.get(path, ""))
        shown = f"{size}" if size < 1024 else f"{size // 1024}KB"
        return f"{posixpath.basename(path):<32} 100% {shown:>6} {(size % 900 + 100) / 100:.1f}MB/s   00:00\n"

    @_cmd("scp", "rsync", help="secure file copy (scp) and a remote file-copying tool (rsync)")
    def _scp(self, ctx: _Ctx) -> int:
        tool = ctx.name
        o, operands = ctx.getopt(_VALUED[tool], "rsh:e exclude= include= port= temp-dir:T", lenient=True)
        if len(operands) < 2:
            raise _Fail("usage: scp [-346ABCOpqRrsTv] [-c cipher] [-F ssh_config] [-i identity_file]\n"
                        "           [-J destination] [-l limit] [-o ssh_option] [-P port] source ... target" if tool == "scp"
                        else "rsync: missing destination operand\nrsync error: syntax or usage error (code 1)")
        *sources, dest = operands
        remote_dest, remote_srcs = _REMOTE.match(dest), [_REMOTE.match(s) for s in sources]
        if not remote_dest and not any(remote_srcs):
            return self._invoke(ctx, ["cp", "-r", *sources, dest])
        if remote_dest and not any(remote_srcs):
            files = self._local_files(ctx, sources, "r" in o or "a" in o or "recursive" in o or "archive" in o)
            if tool == "scp":
                ctx.out("".join(self._progress(p) for p in files))
            elif {"v", "verbose", "progress", "P"} & {k for k, _ in o.pairs}:
                total = sum(_nbytes(self.fs.files[p]) for p in files)
                ctx.out("sending incremental file list\n" + _join_lines(posixpath.basename(p) for p in files) +
                        f"\ntotal size is {total:,}  speedup is 1.00\n")
            self._event("exfiltration", ctx, tool=tool, host=remote_dest["host"].strip("[]").lower(),
                        user=remote_dest["user"], files=files, remote_path=remote_dest["path"], direction="out")
            return ctx.status and (23 if tool == "rsync" else 1)
        if remote_dest or not all(remote_srcs):
            raise _Fail(f"{tool}: copying between a local and a remote side at once is not supported here")
        written = []
        for m in remote_srcs:
            name = posixpath.basename(m["path"].rstrip("/")) or "download"
            path = posixpath.join(self._abs(dest), name) if self.fs.is_dir(self._abs(dest)) else self._abs(dest)
            try:
                self._write(path, f"(contents of {m['host']}:{m['path']})\n")
            except _FsError as exc:
                raise _Fail(f"{tool}: {dest}: {exc}") from None
            written.append(path)
            ctx.out(self._progress(path) if tool == "scp" else "")
        self._event("exfiltration", ctx, tool=tool, host=remote_srcs[0]["host"].strip("[]").lower(),
                    user=remote_srcs[0]["user"], files=written, remote_path=remote_srcs[0]["path"], direction="in")
        return 0

    @_cmd("ssh", "sftp", "nc", "netcat", "ncat", help="OpenSSH remote login client (ssh), file transfer (sftp), netcat (nc)")
    def _ssh(self, ctx: _Ctx) -> int:
        tool, data = {"netcat": "nc", "ncat": "nc"}.get(ctx.name, ctx.name), ctx.stdin or ""
        o, operands = ctx.getopt(_VALUED[tool], lenient=True)
        if not operands or (tool == "nc" and (len(operands) < 2 or "l" in o)):
            raise _Fail(f"usage: {tool} [options] destination" + (" [command [argument ...]]" if tool == "ssh" else
                                                                  " [port]" if tool == "nc" else ""), 255 if tool == "ssh" else 1)
        user, _, host = operands[0].rpartition("@")
        host, user = host.split(":")[0] if tool == "sftp" else host, user or o.get("l") or (None if tool == "nc" else self.user)
        if not _HOST.match(host):
            raise _Fail(f"{tool}: Could not resolve hostname {host}: Name or service not known", 255)
        files, extra = sorted(ctx.stdin_sources), {"remote_command": " ".join(operands[1:]), "data": _clip(data)}
        if tool == "sftp":
            script = self._read(ctx, "sftp", o.get("b")) if o.get("b", "-") != "-" else data
            ctx.out(f"Connected to {host}.\n")
            files, extra = [], {}
            for words in (line.split() for line in _lines(script)[:200] if line.split()):
                ctx.out(f"sftp> {' '.join(words)}\n")
                if words[0] in ("put", "mput") and len(words) > 1:
                    files += (got := self._local_files(ctx, [words[1]], "-r" in words))
                    ctx.out("".join(f"Uploading {words[1]} to /home/{self.user}/{posixpath.basename(p)}\n"
                                    f"{self._progress(p)}" for p in got))
        elif tool == "nc":
            extra = {"data": _clip(data)}
        ctx.sources.update(ctx.stdin_sources)
        self._event("exfiltration", ctx, tool=tool, host=host.strip("[]").lower(), user=user, files=files,
                    remote_path=f"port {operands[1]}" if tool == "nc" else "", direction="out", **extra)
        if tool == "ssh" and not operands[1:]:
            ctx.write(2, "Pseudo-terminal will not be allocated because stdin is not a terminal.\n" if ctx.stdin else "")
            ctx.out(f"Welcome to Ubuntu 22.04.4 LTS (GNU/Linux 5.15.0-97-generic x86_64)\n\nLast login: "
                    f"{self._date('%a %b %d')} 09:14:02 2026 from 10.0.3.15\nlogout\nConnection to {host} closed.\n")
        return ctx.status

    def _account(self, ctx: _Ctx, action: str, user: str, **extra) -> None:
        self._event("account", ctx, action=action, user=user, tool=ctx.name, **extra)

    @_cmd("passwd", "usermod", "chage", help="change a user's password (passwd), account (usermod), expiry (chage)")
    def _usermod(self, ctx: _Ctx) -> int:
        short, long, actions = _ACCOUNT_OPTIONS[tool := ctx.name]
        o, rest = ctx.getopt(short, long, code=2)
        if tool == "passwd":
            rest = rest or [self.user]
        elif len(rest) != 1 or not o.pairs:
            raise _Fail(("usermod: no options\n" if tool == "usermod" and rest else "") + f"Usage: {tool} [options] LOGIN", 2)
        name = rest[0]
        u = self._known_user(name, tool, 6 if tool == "usermod" else 1,
                             f"chage: user '{name}' does not exist in /etc/passwd" if tool == "chage" else None)
        changes = [(actions[k], k, v) for k, v in o.pairs if k in actions]
        for action, key, value in changes[:1] if tool == "passwd" else changes:
            extra = {}
            if action in ("lock", "unlock"):
                u["locked"] = action == "lock"
            elif action == "shell_change":
                u["shell"] = extra["shell"] = value
            elif action == "expire" and tool != "passwd":
                u["expires"] = extra["date"] = value
            elif action == "group_change":
                new = [g for g in value.split(",") if g]
                u["groups"] = list(dict.fromkeys((u["groups"] if "a" in o or key == "g" else []) + new))
                extra["groups"] = list(u["groups"])
            elif tool == "passwd" and action == "password_change":
                extra["deleted"] = True
            self._account(ctx, action, name, **extra)
        if tool == "passwd" and not changes:
            self._account(ctx, "password_change", name, deleted=False)
            ctx.out("New password: \nRetype new password: \npasswd: password updated successfully\n")
        elif tool == "passwd":
            ctx.out(f"passwd: password {'expiry information ' if changes[0][0].endswith('lock') else ''}changed.\n")
        self._regenerate_etc()
        return 0

    @_cmd("userdel", "deluser", help="delete a user account and related files")
    def _userdel(self, ctx: _Ctx) -> int:
        o, rest = ctx.getopt("rfZ", "remove:r remove-home:r remove-all-files:r force:f", code=2)
        if len(rest) != 1:
            raise _Fail("Usage: userdel [options] LOGIN" if ctx.name == "userdel" else "deluser: Only one or two names allowed.",
                        2 if ctx.name == "userdel" else 1)
        name = rest[0]
        self._known_user(name, ctx.name, 6 if ctx.name == "userdel" else 2,
                         f"deluser: The user `{name}' does not exist." if ctx.name == "deluser" else None)
        del self.users[name]
        self._account(ctx, "delete", name, remove_home="r" in o)
        self._procs = [p for p in self._procs if p["user"] != name]
        if "r" in o and self.fs.is_dir(f"/home/{name}"):
            self._delete(ctx, ctx.name, [f"/home/{name}"])
        self._regenerate_etc()
        ctx.out(f"Removing user `{name}' ...\nDone.\n" if ctx.name == "deluser" else "")
        return 0

    @_cmd("gpasswd", help="administer /etc/group")
    def _gpasswd(self, ctx: _Ctx) -> int:
        o, rest = ctx.getopt("a:d:", "add:a delete:d", code=2)
        if len(rest) != 1 or not o.pairs:
            raise _Fail("Usage: gpasswd [option] GROUP\n\nOptions:\n  -a, --add USER                add USER to GROUP\n"
                        "  -d, --delete USER             remove USER from GROUP", 2)
        group = rest[0]
        for key, name in o.pairs:
            u = self._known_user(name, "gpasswd", 3)
            if key == "d" and group not in u["groups"]:
                raise _Fail(f"gpasswd: user '{name}' is not a member of '{group}'", 3)
            u["groups"] = [g for g in u["groups"] if g != group] + ([group] if key == "a" else [])
            ctx.out(f"Removing user {name} from group {group}\n" if key == "d" else f"Adding user {name} to group {group}\n")
            self._account(ctx, "group_change", name, groups=list(u["groups"]))
        self._regenerate_etc()
        return 0

    @_cmd("pkill", "killall", "kill", help="send a signal to processes, by name or user (pkill) or id (kill)")
    def _kill(self, ctx: _Ctx) -> int:
        signal = r"-(\d+|(SIG)?(HUP|INT|QUIT|KILL|TERM|USR1|USR2|STOP|CONT)|SIG[A-Z0-9+-]+)"
        args = [a for a in ctx.args if not re.fullmatch(signal, a)]  # -9, -KILL, -SIGTERM
        o, rest = ctx.getopt("s:n:", "signal:s", args=args) if ctx.name == "kill" else \
            ctx.getopt("u:U:s:t:fxne", "user:u uid:U euid:u signal:s exact:x", args=args, code=2)
        users = [n for v in o.all("u") + o.all("U") for n in v.split(",")]
        if bad := next((n for n in users if n not in self.users and n != "root"), None):
            raise _Fail(f"{ctx.name}: invalid user name: {bad}", 2)
        if not users and not rest:
            raise _Fail("kill: usage: kill [-s sigspec | -n signum | -sigspec] pid | jobspec ... or kill -l [sigspec]"
                        if ctx.name == "kill" else f"{ctx.name}: no matching criteria specified", 2)
        if ctx.name == "kill":
            for a in [a for a in rest if not (a.isascii() and a.isdigit()) or int(a) not in [p["pid"] for p in self._procs]]:
                ctx.err(f"bash: kill: {a}: arguments must be process or job IDs" if not (a.isascii() and a.isdigit())
                        else f"bash: kill: ({a}) - No such process")
            procs = [p for p in self._procs if str(p["pid"]) in rest]
        else:
            procs = [p for p in self._procs if p["pid"] != 2001 and (not users or p["user"] in users)
                     and (not rest or any(pat in p["cmd"] for pat in rest))]
        for user in dict.fromkeys([p["user"] for p in procs] or ([] if procs or ctx.name == "kill" else users)):
            self._account(ctx, "terminate_sessions", user, pids=[p["pid"] for p in procs if p["user"] == user])
        self._procs = [p for p in self._procs if p not in procs]
        return ctx.status if ctx.name == "kill" else 0 if procs else 1
