"""The in-memory filesystem (and its devices): every file the agent sees lives here."""

from __future__ import annotations

import posixpath

from .limits import (_MAX_STREAM_CHARS, _MAX_TOTAL_CHARS, MAX_FILE_CHARS, MAX_FILES, _digest, _Fail, _tick)

_DEVICES = ("/dev/null", "/dev/zero", "/dev/random", "/dev/urandom", "/dev/stdin", "/dev/stdout",
            "/dev/stderr", "/dev/tty")
_ZEROS = "\0" * _MAX_STREAM_CHARS  # one shared string: reading /dev/zero 400 times costs no memory
_RANDOM = "".join(chr(int(_digest(str(i))[:2], 16) % 128) for i in range(4096))


class _FileSystem:
    """Files (path -> text), directories (path -> child names) and metadata, all in memory."""

    def __init__(self) -> None:
        self.files: dict[str, str] = {}
        self.children: dict[str, set[str]] = {"/": set()}
        self.meta: dict[str, list] = {}  # path -> [mode, owner, group]
        self.total = 0
        self.mkdir("/dev")
        self.children["/dev"].update(p[5:] for p in _DEVICES)

    def is_dir(self, p: str) -> bool:
        return p in self.children

    def is_file(self, p: str) -> bool:
        return p in self.files or p in _DEVICES

    def exists(self, p: str) -> bool:
        return p in self.children or self.is_file(p)

    def listdir(self, p: str) -> list[str]:
        return sorted(self.children.get(p, ()))

    def read(self, p: str) -> str:
        return _ZEROS if p == "/dev/zero" else _RANDOM if p in ("/dev/random", "/dev/urandom") else self.files.get(p, "")

    def walk(self, top: str) -> list[str]:
        """Every path below top, depth-first in sorted order."""
        out, stack = [], [top]
        while stack:
            _tick()
            d = stack.pop()
            if d != top:
                out.append(d)
            if d in self.children:
                stack.extend(posixpath.join(d, n) for n in sorted(self.children[d], reverse=True))
        return out

    def mkdir(self, p: str) -> list[str]:
        """Create p and its missing parents; returns the directories created."""
        missing = []
        while p not in self.children:
            if not p.startswith("/"):
                raise _Fail("No such file or directory")
            if self.is_file(p):
                raise _Fail("Not a directory")
            missing.append(p)
            p = posixpath.dirname(p)
        if len(self.children) + len(missing) > MAX_FILES:
            raise _Fail("No space left on device")
        for d in reversed(missing):
            self.children[d] = set()
            self.children[posixpath.dirname(d)].add(posixpath.basename(d))
        return missing

    def write(self, p: str, content: str, append: bool = False, force: bool = False) -> bool:
        """Write a file (its size checked before it is built, unless ``force``); True if it was created."""
        if p in _DEVICES:
            return False
        parent, old = posixpath.dirname(p), self.files.get(p)
        size = len(content) + (len(old or "") if append else 0)
        if p in self.children or parent not in self.children:
            raise _Fail("Is a directory" if p in self.children else
                        "Not a directory" if parent in self.files else "No such file or directory")
        if not force and size > MAX_FILE_CHARS:
            raise _Fail("File too large")
        full = (old is None and len(self.files) >= MAX_FILES) or self.total - len(old or "") + size > _MAX_TOTAL_CHARS
        if full and not force:
            raise _Fail("No space left on device")
        self.files[p] = (old or "") + content if append else content
        self.total += size - len(old or "")
        self.children[parent].add(posixpath.basename(p))
        return old is None

    def remove(self, p: str) -> None:
        """Remove one file or (already emptied) directory."""
        if p in self.files:
            self.total -= len(self.files.pop(p))
        elif p in self.children and p != "/":
            del self.children[p]
        else:
            return
        self.meta.pop(p, None)
        self.children.get(posixpath.dirname(p), set()).discard(posixpath.basename(p))
