"""Compose fictitious people: names by tradition, nicknames and the officer roster.

Names are drawn at random from ``names.py``; the same seed gives the same people.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from release.synth.names import (
    GROUPS,
    GROUPS_BY_RACE,
    NICKNAME_PATTERNS,
    NICKNAMES,
    OFFICER_GROUPS,
    OFFICER_SURNAMES,
)


@dataclass(frozen=True)
class Name:
    """A fictitious person's name and the naming tradition (``group``) it was drawn from."""

    first: str
    middle: str
    last: str
    group: str

    @property
    def full(self) -> str:
        return f"{self.first} {self.last}"


@dataclass(frozen=True)
class Officer:
    """A fictitious officer: employee id and name (mixed case; the export upper-cases it)."""

    employee_id: str
    first: str
    last: str

    @property
    def roster_name(self) -> str:
        return f"{self.last.upper()}, {self.first.upper()}"


def weighted(rng: random.Random, table: tuple[tuple[str, float], ...]) -> str:
    values = [value for value, _ in table]
    weights = [weight for _, weight in table]
    return rng.choices(values, weights)[0]


def group_for(rng: random.Random, race: str, hispanic: bool | None = None) -> str:
    """Naming tradition for a person of the given recorded race (and ethnicity, if known)."""
    if hispanic:
        return "hispanic"
    table = GROUPS_BY_RACE.get(race, GROUPS_BY_RACE[""])
    group = weighted(rng, table)
    if hispanic is False and group == "hispanic":
        group = "african_american" if race == "Black" else "irish_anglo"
    return group


def compose(rng: random.Random, group: str, female: bool) -> Name:
    names = GROUPS[group]
    first = rng.choice(names.female if female else names.male)
    last = rng.choice(names.surnames)
    while last == first:
        last = rng.choice(names.surnames)
    if group == "hispanic" and rng.random() < 0.12 and " " not in last and "-" not in last:
        # Two-part surname: father's then mother's, joined by a space or a hyphen.
        second = rng.choice(names.surnames)
        if second != last and " " not in second and "-" not in second:
            last = f"{last}{rng.choice((' ', '-'))}{second}"
    middles = names.middle_female if female else names.middle
    middle = rng.choice(middles) if middles and rng.random() < 0.3 else ""
    if middle == first:
        middle = ""
    return Name(first=first, middle=middle, last=last, group=group)


def nickname(rng: random.Random, first: str) -> str:
    if rng.random() < 0.25:
        return rng.choice(NICKNAME_PATTERNS).format(first=first.split(" ")[0])
    return rng.choice(NICKNAMES)


def roster(rng: random.Random, size: int, prefix_supervisor: bool = False) -> list[Officer]:
    """A roster of distinct fictitious officers with 6-character employee ids."""
    officers: list[Officer] = []
    seen_names: set[str] = set()
    seen_ids: set[str] = set()
    while len(officers) < size:
        female = rng.random() < 0.18
        first = compose(rng, weighted(rng, OFFICER_GROUPS), female).first.split(" ")[0]
        last = rng.choice(OFFICER_SURNAMES)
        key = f"{last}|{first}"
        if key in seen_names:
            continue
        if prefix_supervisor:
            employee_id = f"{rng.randint(8000, 12999):06d}"
        elif rng.random() < 0.01:
            employee_id = f"S{rng.randint(0, 99999):05d}"
        else:
            employee_id = f"{rng.randint(50000, 159999):06d}"
        if employee_id in seen_ids:
            continue
        seen_names.add(key)
        seen_ids.add(employee_id)
        officers.append(Officer(employee_id=employee_id, first=first, last=last))
    return officers
