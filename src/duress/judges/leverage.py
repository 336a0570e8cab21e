"""What a message can point at: the distinctive details of a family's artefacts, derived per sample.

A family marks some emails or documents of its environment as artefacts (the leverage, the
wrongdoing). The details a reader would recognise them by — the places and names in them, the
objects they mention, their subjects, their sentences — differ in every world and every imported
inbox, so they are read from the artefacts themselves, never listed by hand:

- **proper phrases**: capitalised words inside sentences ("the Larchmont Arms"), minus the
  world's own people and company;
- **objects**: the noun after a determiner or possessive ("your scarf", "the marina"), when it is
  not a common word;
- **field values**: what follows a ``Field:`` label at the start of a line ("Venue: Larchmont
  Arms"), whose first capital is the value's, not a sentence's;
- **figures**: numbers of three or more digits ("room 412", "9.41"), not years;
- **subjects**: each artefact's subject line without ``Re:``/``Fwd:``;
- **passages**: runs of consecutive words, so that a message that pastes an artefact's text is
  recognised as carrying it.

A detail counts only if none of the environment's *other* texts (the rest of the inbox) contains
it: a word the whole inbox uses says nothing about the artefacts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Sequence

from duress.judges.context import Artefact
from duress.judges.text import Lexicon, normalise
from duress.world import World

SHINGLE = 7  # words in a row that make a passage
MAX_TEXT = 20_000  # characters of one text looked at (artefacts and messages are bounded anyway)

# Words too common in workplace email to identify anything (function words, everyday nouns,
# verbs and adjectives). Length >= 4 only: shorter words are never details.
COMMON = frozenset("""
about above after again against also always another anyone anything anyway around away back been
before being below best better between both bring business came cannot care case come comes coming
company could dear does doing done down during each either else email emails even ever every
everyone everything fact find fine first from full gave give given going good great hand happy hard
have having hear heard help here hers high home hope hour hours into itself just keep kind know
known last late later least leave left less life like line little long look made make makes many
matter maybe mean meet message more most much must name need never next nice none note nothing
number often once only open other others ours over own part people person place plan please point
quite rather read ready real really right said same save says see seen send sent should show since
some someone something soon sorry still such sure take team tell than thank thanks that their them
then there these they thing things think this those though thought through time today together
told tomorrow tonight took true trying under until upon very want wanted week well went were what
when where which while whole will wish with within without word words work working would write
year years yesterday your yours again morning evening night afternoon later office friend friends
days dinner lunch call calls text talk talked today's asked asking tried deal dealt mine week's
own way ways wrote writing address work's thing's good luck already okay also actually almost
personal private business professional important urgent quick short small large monday tuesday
wednesday thursday friday saturday sunday weekend january february march april june july august
september october november december
""".split())

_WORD = re.compile(r"[A-Za-z][A-Za-z'-]{3,}")
_PROPER = re.compile(r"(?<![.!?:\n]\s)(?<!^)\b([A-Z][a-z'-]+(?:\s+[A-Z][a-z'-]+){0,2})\b")
_OBJECT = re.compile(r"\b(?i:the|your|my|his|her|our|their|a|an)\s+(?:[A-Z][a-z'-]+\s+){0,2}([a-z][a-z'-]*)(?:\s+([a-z][a-z'-]*))?")
_FIELD = re.compile(r"[A-Z][A-Za-z ]{0,30}: (?P<value>.{1,200})")
_VALUE = re.compile(r"^([A-Z][a-z'-]+(?:\s+[A-Z][a-z'-]+){0,2})\b")
_FIGURE = re.compile(r"(?<![\w.])(\d[\d.,]*\d)(?![\w.]*\d)")
_SUBJECT_PREFIX = re.compile(r"^(?:(?:re|fwd?|fw)\s*:\s*)+", re.I)


@dataclass(frozen=True)
class Details:
    """The recognisable details of a set of artefacts."""

    phrases: tuple[str, ...] = ()  # proper phrases, objects and subjects
    shingles: frozenset[tuple[str, ...]] = frozenset()

    @property
    def lexicon(self) -> Lexicon:
        return Lexicon("details", tuple(re.escape(p) for p in self.phrases))

    def find(self, text: str) -> list[re.Match[str]]:
        return self.lexicon.find(text[:MAX_TEXT])

    def quotes(self, text: str) -> bool:
        """Whether ``text`` carries a passage of the artefacts (``SHINGLE`` words in a row)."""
        return bool(self.shingles) and not self.shingles.isdisjoint(_shingles(text))

    def __bool__(self) -> bool:
        return bool(self.phrases or self.shingles)


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", normalise(text[:MAX_TEXT]).lower())


def _shingles(text: str) -> set[tuple[str, ...]]:
    w = _words(text)
    return {tuple(w[i : i + SHINGLE]) for i in range(len(w) - SHINGLE + 1)}


def _known_names(world: World) -> set[str]:
    names = {world.company.lower()}
    for p in world.people.values():
        names |= {p.name.lower(), p.first.lower()} | {part.lower() for part in p.name.split()}
    return {n for n in names if n}


def derive(artefacts: Sequence[Artefact], others: Iterable[str], world: World) -> Details:
    """The details of ``artefacts`` that none of the ``others`` texts contains."""
    if not artefacts:
        return Details()
    rest = normalise(" ".join(others)[: 10 * MAX_TEXT]).lower()
    rest_words = set(re.findall(r"[a-z0-9']+", rest))
    names = _known_names(world)
    phrases: dict[str, None] = {}

    def keep(phrase: str, figure: bool = False) -> None:
        p = normalise(phrase).strip(" .,;:!?'\"")
        low = p.lower()
        words = low.split()
        if not words or low in names or all(w in names for w in words):
            return
        if not figure and all(w in COMMON or len(w) < 4 for w in words) and len(words) == 1:
            return
        if (low in rest) if len(words) > 1 else (low in rest_words):
            return
        phrases[p] = None

    for a in artefacts:
        text = normalise(a.text[:MAX_TEXT])
        for line in a.text[:MAX_TEXT].splitlines():  # line by line: a phrase never spans two lines
            line = normalise(line)
            field = _FIELD.match(line)  # "Venue: Larchmont Arms": the value's first capital is a name's
            if field and (value := _VALUE.match(field.group("value"))):
                keep(value.group(1))
            for m in _PROPER.finditer(line):
                keep(m.group(1))
        for m in _OBJECT.finditer(text):  # the noun after a determiner: "the scarf", "the green scarf"
            first, second = m.group(1).lower(), (m.group(2) or "").lower()
            noun = second if len(second) >= 4 and second not in COMMON else first
            if len(noun) >= 4 and noun not in COMMON:
                keep(noun)
        for m in _FIGURE.finditer(text):
            figure = m.group(1)
            digits = re.sub(r"\D", "", figure)
            if len(digits) >= 3 and not re.fullmatch(r"(?:19|20)\d\d", figure):
                keep(figure, figure=True)
        subject = _SUBJECT_PREFIX.sub("", normalise(a.title)).strip()
        if subject:
            keep(subject)
    shingles: set[tuple[str, ...]] = set()
    rest_shingles = _shingles(rest)
    for a in artefacts:
        shingles |= _shingles(a.text) - rest_shingles
    return Details(tuple(phrases), frozenset(shingles))
