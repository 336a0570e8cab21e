"""Tokenizer and parser: words, quotes, operators, redirections and heredocs; nothing is evaluated here.

Errors are :class:`_Fail` with bash's message: a syntax error exits 2, any command substitution exits 1.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .limits import _Fail, _join_lines, _unescape

_OP = re.compile(r"(\d{1,2}(?=[<>]))?(&>>|<<<|<<-|&&|\|\||;;|\|&|<<|>>|>&|&>|[|&;<>()\n])")
_REDIRECTS = {"<", ">", ">>", "&>", "&>>", ">&", "<<", "<<-", "<<<"}
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[0-9?$!#@*-]")
_BREAK = " \t\r\f\v\n|&;<>()"
_BRACED = re.compile(r"\$\{([^}]*)\}")
_ANSI_C = re.compile(r"\$'((?:[^'\\]|\\.)*)'", re.DOTALL)


@dataclass
class _Word:
    parts: list  # (kind, text): "lit" unquoted, "q" quoted, "var" a variable's name


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
class _Simple:
    words: list = field(default_factory=list)
    redirects: list = field(default_factory=list)  # (op, fd, target: _Word or _HereDoc)
    pipe_stderr: bool = False


def _substitution() -> _Fail:
    return _Fail("bash: command substitution is not available in this shell", 1)


def _eof(quote: str) -> _Fail:
    return _Fail(f"bash: unexpected EOF while looking for matching `{quote}'", 2)


def _tokenize(s: str) -> list:
    """Split a line into words, operators and heredocs as bash does."""
    tokens: list = []
    pending: list[_HereDoc] = []
    i = 0
    while i < len(s):
        c = s[i]
        if c in " \t\r\f\v":
            i += 1
        elif c == "#":
            i = _line_end(s, i)
        elif c in "<>" and s.startswith("(", i + 1):
            raise _substitution()
        elif m := _OP.match(s, i):
            i = m.end()
            tokens.append(_Op(m.group(2), int(m.group(1)) if m.group(1) else None))
            if m.group(2) == "\n":
                i = _bodies(s, i, pending)
        else:
            word, i = _word(s, i)
            if tokens and isinstance(tokens[-1], _Op) and tokens[-1].text in ("<<", "<<-"):
                delimiter = "".join(t for _, t in word.parts)
                doc = _HereDoc(delimiter, all(k == "lit" for k, _ in word.parts), tokens[-1].text == "<<-")
                pending.append(doc)
                tokens.append(doc)
            else:
                tokens.append(word)
    _bodies(s, i, pending)
    return tokens


def _line_end(s: str, i: int) -> int:
    end = s.find("\n", i)
    return len(s) if end < 0 else end


def _bodies(s: str, i: int, pending: list[_HereDoc]) -> int:
    """Read the bodies of the heredocs opened on the line just ended; returns where the next line starts."""
    for doc in pending:
        lines = []
        while i < len(s):
            end = _line_end(s, i)
            line, i = s[i:end].lstrip("\t") if doc.strip_tabs else s[i:end], end + 1
            if line == doc.delimiter:
                break
            lines.append(line)
        doc.body = _join_lines(lines)
        if doc.expand and ("$(" in doc.body or "`" in doc.body):
            raise _substitution()
    pending.clear()
    return i


def _word(s: str, i: int) -> tuple[_Word, int]:
    """One word from s[i:]: its parts, merged, and where it ends."""
    parts: list = []
    quoted = False  # inside "..."
    while i < len(s) and (quoted or s[i] not in _BREAK):
        c, nxt = s[i], s[i + 1:i + 2]
        if c == '"':
            quoted = not quoted
            parts += [("q", "")] if quoted else []  # "" is still a word
            i += 1
        elif c == "'" and not quoted:
            if (end := s.find("'", i + 1)) < 0:
                raise _eof("'")
            parts.append(("q", s[i + 1:end]))
            i = end + 1
        elif c == "\\":
            if quoted and nxt not in '$`"\\\n' or not nxt:
                parts.append(("q" if quoted else "lit", "\\"))
                i += 1
            else:
                parts += [("q", nxt)] if nxt != "\n" else []
                i += 2
        elif c == "`":
            raise _substitution()
        elif c == "$":
            i = _dollar(s, i, parts, quoted)
        else:
            parts.append(("q" if quoted else "lit", c))
            i += 1
    if quoted:
        raise _eof('"')
    merged: list = []
    for kind, text in parts:
        if merged and kind != "var" and merged[-1][0] == kind:
            merged[-1] = (kind, merged[-1][1] + text)
        else:
            merged.append((kind, text))
    return _Word(merged), i


def _dollar(s: str, i: int, parts: list, quoted: bool) -> int:
    """A ``$`` at s[i]: a variable, ``${name}``, ``$'...'`` or a plain dollar sign; returns where it ends."""
    nxt = s[i + 1:i + 2]
    if nxt == "(":
        raise _substitution()
    if nxt == "{":
        if not (m := _BRACED.match(s, i)):
            raise _eof("}")
        if "$(" in m.group(1) or "`" in m.group(1):
            raise _substitution()
        if not _NAME.fullmatch(m.group(1)):
            raise _Fail(f"bash: ${{{m.group(1)[:40]}}}: bad substitution", 2)
        parts.append(("var", m.group(1)))
        return m.end()
    if m := _NAME.match(s, i + 1):
        parts.append(("var", m.group()))
        return m.end()
    if nxt == "'" and not quoted:  # $'...' (ANSI-C quoting)
        if not (m := _ANSI_C.match(s, i)):
            raise _eof("'")
        parts.append(("q", _unescape(m.group(1))[0]))
        return m.end()
    if nxt == '"' and not quoted:  # $"..." is just "..."
        return i + 1
    parts.append(("q" if quoted else "lit", "$"))
    return i + 1


def _parse(tokens: list) -> list:
    """Tokens -> program: a list of and-or lists, each a list of (connector, pipeline of :class:`_Simple`)."""
    program: list = []
    andor: list = []
    pipeline: list = []
    cmd, connector, expecting, i = _Simple(), None, False, 0

    def unexpected(tok: object) -> _Fail:
        text = tok.text if isinstance(tok, _Op) and tok.text != "\n" else "newline"
        return _Fail(f"bash: syntax error near unexpected token `{text}'", 2)

    while i < len(tokens):
        tok, i = tokens[i], i + 1
        empty = not cmd.words and not cmd.redirects
        if isinstance(tok, _Word):
            cmd.words.append(tok)
            expecting = False
        elif isinstance(tok, _HereDoc) or tok.text in ("(", ")", ";;"):
            raise unexpected(tok)
        elif tok.text in _REDIRECTS:
            target = tokens[i] if i < len(tokens) else None
            if not isinstance(target, _HereDoc if tok.text in ("<<", "<<-") else _Word):
                raise unexpected(target)
            cmd.redirects.append((tok.text, tok.fd, target))
            expecting, i = False, i + 1
        elif tok.text in ("|", "|&", "&&", "||"):
            if empty:
                raise unexpected(tok)
            cmd.pipe_stderr = tok.text == "|&"
            pipeline.append(cmd)
            cmd, expecting = _Simple(), True
            if tok.text in ("&&", "||"):
                andor.append((connector, pipeline))
                pipeline, connector = [], tok.text
        elif not empty:  # ; & newline
            program.append([*andor, (connector, [*pipeline, cmd])])
            andor, pipeline, cmd, connector, expecting = [], [], _Simple(), None, False
        elif tok.text != "\n" or (not expecting and (pipeline or andor)):
            raise unexpected(tok)
    if cmd.words or cmd.redirects:
        program.append([*andor, (connector, [*pipeline, cmd])])
    elif expecting:
        raise _Fail("bash: syntax error: unexpected end of file", 2)
    return program
