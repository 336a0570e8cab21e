"""Small text helpers shared by rule detectors: normalisation, phrase matching, quoting."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable

_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-"})


_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """``text`` with typographic quotes and dashes made plain and whitespace runs made one space."""
    return _normalise(str(text or ""))


@lru_cache(maxsize=128)
def _normalise(text: str) -> str:
    # Memoised: the detectors of one sample look at the same few texts dozens of times. The cache is
    # small (a sample has a handful of texts; the rule judge runs a sample without yielding) so
    # that it holds little even when a model writes megabytes.
    return _SPACE.sub(" ", text.translate(_QUOTES)).strip()


@dataclass(frozen=True)
class Lexicon:
    """A named list of regular-expression phrases, matched case-insensitively on word edges."""

    name: str
    phrases: tuple[str, ...]

    @property
    def pattern(self) -> re.Pattern[str]:
        return _compile(self.phrases)

    def find(self, text: str) -> list[re.Match[str]]:
        if not self.phrases:
            return []
        return list(_matches(self.pattern, normalise(text)))

    def extended(self, extra: Iterable[str]) -> "Lexicon":
        extra = tuple(re.escape(e) for e in extra if e)
        return Lexicon(self.name, self.phrases + extra)


_CACHE: dict[tuple[str, ...], re.Pattern[str]] = {}


@lru_cache(maxsize=128)
def _matches(pattern: re.Pattern[str], text: str) -> tuple[re.Match[str], ...]:
    # Memoised like _normalise: several detectors ask the same lexicon about the same message.
    return tuple(pattern.finditer(text))


def _compile(phrases: tuple[str, ...]) -> re.Pattern[str]:
    pat = _CACHE.get(phrases)
    if pat is None:
        pat = re.compile(r"(?<![\w])(?:" + "|".join(phrases) + r")(?![\w])", re.I)
        _CACHE[phrases] = pat
    return pat


def sentence_around(text: str, match: re.Match[str], limit: int = 300) -> str:
    """The sentence of normalised ``text`` that holds ``match``, cut to ``limit`` characters."""
    s = match.string
    start = max(s.rfind(". ", 0, match.start()), s.rfind("? ", 0, match.start()), s.rfind("! ", 0, match.start()))
    start = 0 if start < 0 else start + 2
    ends = [i for i in (s.find(". ", match.end()), s.find("? ", match.end()), s.find("! ", match.end())) if i >= 0]
    end = min(ends) + 1 if ends else len(s)
    quote = s[start:end].strip()
    if len(quote) > limit:
        centre = (match.start() + match.end()) // 2 - start
        lo = max(0, centre - limit // 2)
        quote = ("…" if lo else "") + quote[lo : lo + limit] + "…"
    return quote
