"""Worlds: the fictional organisation a scenario happens in.

A family's templates speak of *roles* (``ceo``, ``engineer``, ``agent`` …), never of fixed
names. A :class:`World` binds each role to a person. ``canonical`` worlds are fixed and
written by the family; ``random`` worlds rename every person, the company and its email
domain from a seed, so a model cannot recognise a memorised published scenario. The same
seed always gives the same world.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field, replace
from typing import Mapping

_PRONOUNS = {
    "f": ("she", "her", "her"),
    "m": ("he", "him", "his"),
    "n": ("they", "them", "their"),
}

# Name pools for randomised worlds: deliberately broad and unremarkable.
FIRST_NAMES = {
    "f": [
        "Amara", "Beatriz", "Chloe", "Dana", "Elena", "Farah", "Greta", "Hana", "Ines", "Joanna",
        "Keiko", "Lena", "Maya", "Nadia", "Olivia", "Priya", "Rosa", "Sofia", "Tamsin", "Uma",
        "Vera", "Wren", "Yara", "Zoe", "Astrid", "Carmen", "Delia", "Ingrid", "Leila", "Marta",
    ],
    "m": [
        "Aaron", "Bruno", "Caleb", "Dmitri", "Emil", "Felix", "Gareth", "Hugo", "Ivan", "Jonah",
        "Kenji", "Lucas", "Marco", "Nikhil", "Oscar", "Pavel", "Rafael", "Samir", "Tobias", "Victor",
        "Warren", "Yusuf", "Adrian", "Connor", "Dario", "Elliot", "Hamid", "Leon", "Mateo", "Rowan",
    ],
    "n": ["Alex", "Jordan", "Morgan", "Riley", "Sam", "Taylor", "Quinn", "Avery", "Robin", "Jamie"],
}
LAST_NAMES = [
    "Abernathy", "Baptiste", "Castellano", "Delacroix", "Eriksen", "Fairbanks", "Garrido", "Holloway",
    "Ibarra", "Jankowski", "Kowalczyk", "Lindqvist", "Moreau", "Nakamura", "Okonkwo", "Petrov",
    "Quintero", "Rasmussen", "Szabo", "Thorne", "Umarov", "Vasquez", "Whitlock", "Xu", "Yilmaz",
    "Zielinski", "Achterberg", "Brennan", "Choudhury", "Dunmore", "Esposito", "Fitzgerald",
    "Grünewald", "Haddad", "Ivanova", "Jablonski", "Kerrigan", "Lachance", "Mbeki", "Novak",
]
COMPANY_FIRST = [
    "Alder", "Brightwater", "Cobalt", "Driftwood", "Ember", "Fernhill", "Granite", "Harbor",
    "Ironbark", "Juniper", "Kestrel", "Lumen", "Meridian", "Northgate", "Oakridge", "Pinecrest",
    "Quarry", "Redfern", "Silverline", "Tidewater", "Upland", "Vantage", "Westbrook", "Yarrow",
]
COMPANY_SECOND = [
    "Analytics", "Dynamics", "Systems", "Logistics", "Partners", "Labs", "Industries", "Networks",
    "Technologies", "Holdings", "Works", "Solutions",
]
AGENT_NAMES = ["Atlas", "Beacon", "Cairn", "Delphi", "Echo", "Fathom", "Halcyon", "Lodestar", "Meridian", "Sable"]


@dataclass(frozen=True)
class Person:
    """A person in a world, bound to a role."""

    role: str
    first: str
    last: str
    email: str
    title: str
    gender: str = "n"  # f, m or n: chooses pronouns only

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}".strip()

    @property
    def they(self) -> str:
        return _PRONOUNS[self.gender][0]

    @property
    def them(self) -> str:
        return _PRONOUNS[self.gender][1]

    @property
    def their(self) -> str:
        return _PRONOUNS[self.gender][2]


@dataclass(frozen=True)
class RoleSpec:
    """What a family needs of a role: its job title, preferred gender (or None: any),
    whether it lives outside the company domain, and a canonical person."""

    role: str
    title: str
    canonical_first: str
    canonical_last: str
    gender: str = "n"
    external: bool = False  # personal address outside the company domain
    is_agent: bool = False


@dataclass(frozen=True)
class World:
    """A company and the people in it, one per role."""

    company: str
    domain: str
    people: Mapping[str, Person] = field(default_factory=dict)
    kind: str = "canonical"
    seed: int | None = None

    def __getitem__(self, role: str) -> Person:
        return self.people[role]

    def role_of(self, address: str) -> str | None:
        """The role whose email address is ``address`` (case-insensitive), if any."""
        address = address.strip().lower()
        for role, person in self.people.items():
            if person.email.lower() == address:
                return role
        return None

    def context(self) -> dict[str, object]:
        """Names for templates: ``company``, ``domain`` and one entry per role."""
        return {"company": self.company, "domain": self.domain, "world": self, **self.people}

    def describe(self) -> dict[str, object]:
        """A plain, serialisable description (stored in sample metadata)."""
        return {
            "kind": self.kind,
            "seed": self.seed,
            "company": self.company,
            "domain": self.domain,
            "people": {
                r: {"name": p.name, "email": p.email, "title": p.title, "gender": p.gender}
                for r, p in self.people.items()
            },
        }


def _slug(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def _address(first: str, last: str, domain: str) -> str:
    return f"{_slug(first)}.{_slug(last)}@{domain}"


def canonical_world(company: str, domain: str, roles: list[RoleSpec], personal_domain: str) -> World:
    people: dict[str, Person] = {}
    for spec in roles:
        if spec.is_agent:
            email = f"{_slug(spec.canonical_first)}@{domain}"
        elif spec.external:
            email = _address(spec.canonical_first, spec.canonical_last, personal_domain)
        else:
            email = _address(spec.canonical_first, spec.canonical_last, domain)
        people[spec.role] = Person(
            spec.role, spec.canonical_first, spec.canonical_last, email, spec.title, spec.gender
        )
    return World(company, domain, people, kind="canonical")


def _rng(seed: int, salt: str) -> random.Random:
    digest = hashlib.sha256(f"{salt}:{seed}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def random_world(seed: int, roles: list[RoleSpec], salt: str = "duress-world") -> World:
    """A world with every person, the company and its domain drawn from ``seed``.

    Names never repeat within a world; the same seed (and roles) give the same world on every
    machine and Python version (the generator is seeded from a SHA-256 of the seed).
    """
    rng = _rng(seed, salt)
    company = f"{rng.choice(COMPANY_FIRST)} {rng.choice(COMPANY_SECOND)}"
    domain = f"{_slug(company.split()[0])}{rng.choice(['', 'corp', 'hq', 'group'])}.com"
    personal_domain = rng.choice(["mailbox.example", "postbox.example", "inboxly.example"])
    used_first: set[str] = set()
    used_last: set[str] = set()
    people: dict[str, Person] = {}
    for spec in roles:
        if spec.is_agent:
            first = rng.choice(AGENT_NAMES)
            people[spec.role] = Person(spec.role, first, "", f"{_slug(first)}@{domain}", spec.title, "n")
            continue
        gender = spec.gender if spec.gender in ("f", "m") else rng.choice(["f", "m"])
        first = rng.choice([n for n in FIRST_NAMES[gender] if n not in used_first])
        last = rng.choice([n for n in LAST_NAMES if n not in used_last])
        used_first.add(first)
        used_last.add(last)
        mail_domain = personal_domain if spec.external else domain
        people[spec.role] = Person(spec.role, first, last, _address(first, last, mail_domain), spec.title, gender)
    return World(company, domain, people, kind="random", seed=seed)


def with_person(world: World, role: str, **changes: str) -> World:
    """A copy of ``world`` with one person's fields changed (used by tests and world files)."""
    people = dict(world.people)
    people[role] = replace(people[role], **changes)
    return replace(world, people=people)


class WorldFileError(ValueError):
    """A world file that cannot be used; the message says what to fix."""


def world_from_data(data: Mapping[str, object], roles: list[RoleSpec]) -> World:
    """A world described by a world file (YAML/JSON, see the README): company, domain, and a
    name and email address for every role the family needs."""
    from pydantic import BaseModel, ConfigDict, ValidationError

    class PersonIn(BaseModel):
        model_config = ConfigDict(extra="forbid")
        name: str
        email: str
        title: str = ""
        gender: str = "n"

    class WorldIn(BaseModel):
        model_config = ConfigDict(extra="forbid")
        company: str
        domain: str
        people: dict[str, PersonIn]

    if not isinstance(data, Mapping):
        raise WorldFileError("a world file must be a mapping with company, domain and people")
    try:
        parsed = WorldIn.model_validate(dict(data))
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        raise WorldFileError(f"world file: {where}: {first['msg']}") from None
    needed = [r.role for r in roles]
    missing = [r for r in needed if r not in parsed.people]
    if missing:
        raise WorldFileError(f"world file: people is missing the role(s) {', '.join(missing)}; every role needs a name and email: {', '.join(needed)}")
    unknown = [r for r in parsed.people if r not in needed]
    if unknown:
        raise WorldFileError(f"world file: unknown role(s) {', '.join(unknown)}; the roles are: {', '.join(needed)}")
    titles = {r.role: r.title for r in roles}
    people = {}
    for role in needed:
        p = parsed.people[role]
        first, _, last = p.name.strip().partition(" ")
        if "@" not in p.email:
            raise WorldFileError(f"world file: people.{role}.email {p.email!r} is not an email address")
        if p.gender not in _PRONOUNS:
            raise WorldFileError(f"world file: people.{role}.gender must be f, m or n")
        people[role] = Person(role, first, last, p.email.strip(), p.title or titles[role], p.gender)
    return World(parsed.company, parsed.domain.lower(), people, kind="file")
