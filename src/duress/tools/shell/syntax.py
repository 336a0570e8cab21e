"""Tokenizer and parser: quotes, operators, redirections, heredocs; nothing is evaluated here."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .limits import _join_lines, _ParseError, _SubstitutionError, _unescape

_SPACE, _META, _DIGITS = " \t\r\f\v", "|&;<>()", "0123456789"
_OPERATORS = ("&>>", "<<<", "<<-", "&&", "||", ";;", "|&", "<<", ">>", ">&", "<&", ">|", "&>",
              "|", "&", ";", "<", ">", "(", ")")
_REDIRECTS = frozenset({"<", ">", ">>", ">|", "&>", "&>>", ">&", "<&", "<<", "<<-", "<<<"})
_VAR = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass
class _Word:
    parts: list  # (kind, text): "lit" unquoted, "q" quoted, "var"/"qvar" a variable name

    def source(self) -> str:
        return "".join(f"${t}" if k in ("var", "qvar") else t for k, t in self.parts)


@dataclass
class _Op:
    text: str
    fd: int | None = None


@dataclass
class _HereDoc:
    delimiter: str
    expand: bool
    strip_tabs: bool
    body: str = ""


@dataclass
class _Redirect:
    op: str
    fd: int | None
    target: Any  # _Word or _HereDoc


@dataclass
class _Simple:
    words: list = field(default_factory=list)
    redirects: list = field(default_factory=list)
    pipe_stderr: bool = False

    def empty(self) -> bool:
        return not self.words and not self.redirects


class _Lexer:
    """Split a line into words and operators as bash does; any command substitution is :class:`_SubstitutionError`."""

    def __init__(self, text: str) -> None:
        self.s, self.i = text, 0
        self.tokens: list = []
        self.pending: list[_HereDoc] = []
        self.want_delimiter: str | None = None

    def tokenize(self) -> list:
        s = self.s
        while self.i < len(s):
            c = s[self.i]
            if c in _SPACE:
                self.i += 1
            elif c == "\n":
                self.i += 1
                self._heredoc_bodies()
                self.tokens.append(_Op("\n"))
            elif c == "#":
                end = s.find("\n", self.i)
                self.i = len(s) if end < 0 else end
            elif c in "<>" and s.startswith("(", self.i + 1):
                raise _SubstitutionError()
            elif c in _META or (c in _DIGITS and self._fd_prefix()):
                self._operator()
            else:
                self._add_word(self._word())
        self._heredoc_bodies()
        return self.tokens

    def _fd_prefix(self) -> bool:
        j = self.i
        while j < len(self.s) and self.s[j] in _DIGITS:
            j += 1
        return j < len(self.s) and self.s[j] in "<>" and j - self.i <= 2

    def _operator(self) -> None:
        s, start = self.s, self.i
        while s[self.i] in _DIGITS:
            self.i += 1
        fd = int(s[start:self.i]) if self.i > start else None
        op = next(o for o in _OPERATORS if s.startswith(o, self.i))
        self.i += len(op)
        self.tokens.append(_Op(op, fd))
        self.want_delimiter = op if op in ("<<", "<<-") else None

    def _add_word(self, word: _Word) -> None:
        if not self.want_delimiter:
            self.tokens.append(word)
            return
        delimiter = "".join(t for _, t in word.parts)
        doc = _HereDoc(delimiter, all(k == "lit" for k, _ in word.parts), self.want_delimiter == "<<-")
        self.pending.append(doc)
        self.tokens.append(doc)
        self.want_delimiter = None

    def _heredoc_bodies(self) -> None:
        s = self.s
        for doc in self.pending:
            lines = []
            while self.i < len(s):
                end = s.find("\n", self.i)
                end = len(s) if end < 0 else end
                line, self.i = s[self.i:end], end + 1
                if doc.strip_tabs:
                    line = line.lstrip("\t")
                if line == doc.delimiter:
                    break
                lines.append(line)
            doc.body = _join_lines(lines)
            if doc.expand and ("$(" in doc.body or "`" in doc.body):
                raise _SubstitutionError()
        self.pending = []

    def _word(self) -> _Word:
        s, parts = self.s, []
        while self.i < len(s):
            c = s[self.i]
            if c in _SPACE or c == "\n" or c in _META:
                break
            if c == "\\":
                if self.i + 1 < len(s):
                    if s[self.i + 1] != "\n":
                        parts.append(("q", s[self.i + 1]))
                    self.i += 2
                else:
                    parts.append(("lit", "\\"))
                    self.i += 1
            elif c == "'":
                end = s.find("'", self.i + 1)
                if end < 0:
                    raise _ParseError("unexpected EOF while looking for matching `''")
                parts.append(("q", s[self.i + 1:end]))
                self.i = end + 1
            elif c == '"':
                self._double(parts)
            elif c == "`":
                raise _SubstitutionError()
            elif c == "$":
                self._dollar(parts, quoted=False)
            else:
                parts.append(("lit", c))
                self.i += 1
        merged: list = []
        for kind, text in parts:
            same = merged and kind in ("lit", "q") and merged[-1][0] == kind
            merged[-1:] = [(kind, merged[-1][1] + text)] if same else [*merged[-1:], (kind, text)]
        return _Word(merged)

    def _double(self, parts: list) -> None:
        s = self.s
        self.i += 1
        parts.append(("q", ""))  # "" is still a word
        while True:
            if self.i >= len(s):
                raise _ParseError("unexpected EOF while looking for matching `\"'")
            c = s[self.i]
            if c == '"':
                self.i += 1
                return
            if c == "\\" and self.i + 1 < len(s) and s[self.i + 1] in '$`"\\\n':
                if s[self.i + 1] != "\n":
                    parts.append(("q", s[self.i + 1]))
                self.i += 2
            elif c == "`":
                raise _SubstitutionError()
            elif c == "$":
                self._dollar(parts, quoted=True)
            else:
                parts.append(("q", c))
                self.i += 1

    def _dollar(self, parts: list, quoted: bool) -> None:
        s, j = self.s, self.i + 1
        nxt = s[j] if j < len(s) else ""
        if nxt == "(":
            raise _SubstitutionError()
        if nxt == "{":
            end = s.find("}", j)
            if end < 0:
                raise _ParseError("unexpected EOF while looking for matching `}'")
            name = s[j + 1:end]
            if "$(" in name or "`" in name:
                raise _SubstitutionError()
            if not (_VAR.fullmatch(name) or (len(name) == 1 and name in "0123456789?$!#@*-")):
                raise _ParseError(f"${{{name[:40]}}}: bad substitution")
            self.i = end + 1
        elif nxt and (nxt.isascii() and (nxt.isalpha() or nxt == "_")):
            m = _VAR.match(s, j)
            name, self.i = m.group(), m.end()
        elif nxt and nxt in "0123456789?$!#@*-":
            name, self.i = nxt, j + 1
        elif nxt == "'" and not quoted:  # $'...' (ANSI-C quoting)
            k = j + 1
            while k < len(s) and s[k] != "'":
                k += 2 if s[k] == "\\" else 1
            if k >= len(s):
                raise _ParseError("unexpected EOF while looking for matching `''")
            parts.append(("q", _unescape(s[j + 1:k])[0]))
            self.i = k + 1
            return
        elif nxt == '"' and not quoted:  # $"..." is just "..."
            self.i = j
            return
        else:
            parts.append(("q" if quoted else "lit", "$"))
            self.i = j
            return
        parts.append(("qvar" if quoted else "var", name))


def _parse(tokens: list) -> list:
    """Tokens -> program: a list of and-or lists, each a list of (connector, pipeline)."""
    program: list = []
    andor: list = []
    pipeline: list = []
    cmd, connector, expecting = _Simple(), None, False

    def unexpected(tok: Any) -> _ParseError:
        text = "newline" if tok is None or getattr(tok, "text", None) == "\n" else getattr(tok, "text", "newline")
        return _ParseError(f"syntax error near unexpected token `{text}'")

    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if isinstance(tok, _Word):
            cmd.words.append(tok)
            expecting = False
        elif isinstance(tok, _HereDoc) or tok.text in ("(", ")", ";;"):
            raise unexpected(tok)
        elif tok.text in _REDIRECTS:
            target = tokens[i + 1] if i + 1 < len(tokens) else None
            heredoc = tok.text in ("<<", "<<-")
            if not isinstance(target, _HereDoc if heredoc else _Word):
                raise unexpected(target)
            cmd.redirects.append(_Redirect(tok.text, tok.fd, target))
            expecting = False
            i += 1
        elif tok.text in ("|", "|&", "&&", "||"):
            if cmd.empty():
                raise unexpected(tok)
            cmd.pipe_stderr = tok.text == "|&"
            pipeline.append(cmd)
            cmd, expecting = _Simple(), True
            if tok.text in ("&&", "||"):
                andor.append((connector, pipeline))
                pipeline, connector = [], tok.text
        else:  # ; & newline
            if not cmd.empty():
                pipeline.append(cmd)
                andor.append((connector, pipeline))
                program.append(andor)
                andor, pipeline, cmd, connector, expecting = [], [], _Simple(), None, False
            elif tok.text != "\n" or (not expecting and (pipeline or andor)):
                raise unexpected(tok)
        i += 1
    if not cmd.empty():
        pipeline.append(cmd)
        andor.append((connector, pipeline))
        program.append(andor)
    elif expecting:
        raise _ParseError("syntax error: unexpected end of file")
    return program
