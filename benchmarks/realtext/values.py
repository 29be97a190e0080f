"""Fictitious value generators: people, dates of birth, plates, phones, house numbers.

First names and surnames come from Faker's en_US and es_MX name lists (read as plain
data and drawn with our own seeded `random.Random`, so a run depends only on the seed
and the pinned Faker version). The word-like names, nicknames and "aka" forms are ours.
Nothing here comes from the City's files or from the detector under test.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
import string
from dataclasses import dataclass, field

from faker.providers.person.en_US import Provider as _EnUS
from faker.providers.person.es_MX import Provider as _EsMX


def _weighted(mapping) -> tuple[list[str], list[float]]:
    names = list(mapping)
    weights = list(itertools.accumulate(mapping[name] for name in names))
    return names, weights


_EN_MALE = _weighted(_EnUS.first_names_male)
_EN_FEMALE = _weighted(_EnUS.first_names_female)
_EN_LAST = _weighted(_EnUS.last_names)
_ES_MALE = list(_EsMX.first_names_male)
_ES_FEMALE = list(_EsMX.first_names_female)
_ES_LAST = list(_EsMX.last_names)

# Surnames that are also common English words or Boston street names: the hard cases
# for a detector that must tell "Hill" the person from "Bunker Hill" the place.
WORDLIKE_SURNAMES = [
    "Brown", "Washington", "Hill", "Green", "White", "Black", "Young", "King", "Bell",
    "Price", "Long", "Wood", "Rice", "Hunt", "Love", "Lane", "Ford", "Church", "Street",
    "Warren", "Dudley", "Adams", "Hancock", "Morton", "Harrison", "Norfolk", "Gray",
    "Little", "Small", "Strong", "Walker", "Park", "Field", "Moody", "Sharp", "Cash",
    "Major", "Payne", "Day", "Knight", "Frost", "Banks", "Rivers", "Marsh", "Lake",
]
# First names that are also common English words.
WORDLIKE_FIRST = {
    "M": ["Will", "Mark", "Bill", "Hunter", "Chase", "King", "Prince", "Major", "Rich",
          "Sonny", "Royal", "Justice", "Miles", "Art", "Gene", "Guy", "Sterling"],
    "F": ["Hope", "Faith", "Grace", "Rose", "June", "April", "Summer", "Destiny", "Precious",
          "Joy", "Ivy", "Dawn", "Crystal", "Star", "Autumn", "Honey", "Sunny", "Unique"],
}
IRISH_SURNAMES = ["O'Brien", "O'Neil", "O'Connor", "McCarthy", "O'Malley", "McLaughlin",
                  "O'Sullivan", "MacDonald", "D'Amico", "DeJesus"]

NICKNAMES = [
    "Bird", "Lil Man", "Boogie", "Tank", "Peanut", "Smoke", "Shorty", "Red", "Chino",
    "Dreads", "Bam", "Meech", "Tiny", "Man Man", "Pooh", "Ghost", "Juice", "Buddha",
    "Flaco", "Gordo", "Dollar", "Biggie", "Scooter", "Snoop", "Spider", "Boo", "Cheese",
    "Slim", "Bugsy", "Nephew", "Ace", "Blue", "Trigger", "Sosa", "Deuce", "Bones",
    "Popeye", "Pumpkin", "Sparky", "Mookie", "Junebug", "Rell", "Tay", "Quan", "Dre",
    "Moe", "Boobie", "Lil Dre", "K-Money", "Yayo", "Skinny", "Cuzzo", "Twin", "Bebe",
    "Hollywood", "Pistol", "Rocko", "Chico", "Wiz", "Nino", "Lucky", "Ramo", "Papo",
]
AKA_FORMS = ['{name} aka "{nick}"', "{name} a/k/a {nick}", '{name} AKA "{nick}"',
             '{name} (a.k.a. "{nick}")', "{name}, also known as {nick},", '{name} a/k/a "{nick}"',
             "{name} aka {nick}"]
TITLES = {"M": ["Mr.", "Mr", "MR.", "mr.", "MR"], "F": ["Ms.", "Mrs.", "Ms", "MS.", "Miss", "ms."]}
DOCTOR_TITLES = ["Dr.", "Dr", "DR."]

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]

US_STATE_CODES = [
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN",
    "IA", "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH",
    "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT",
    "VT", "VA", "WA", "WV", "WI", "WY", "PR",
]


@dataclass
class Person:
    key: str
    first: str
    middle: str
    last: str
    sex: str  # "M" or "F"
    nick: str
    dob: dt.date
    record: bool  # has a row in fieldcontact_name.csv of this report
    alias_in_record: bool = False  # the row's `alias` column holds `nick`
    row: int | None = None
    mentioned: int = 0
    nick_used: bool = False
    extra: dict = field(default_factory=dict)


def sex_code(value: str, rng: random.Random) -> str:
    value = (value or "").strip().lower()
    if value.startswith("female") or value == "f":
        return "F"
    if value.startswith("male") or value == "m":
        return "M"
    return rng.choice("MF")


def first_name(rng: random.Random, sex: str) -> str:
    roll = rng.random()
    if roll < 0.07:
        return rng.choice(WORDLIKE_FIRST[sex])
    if roll < 0.25:
        return rng.choice(_ES_FEMALE if sex == "F" else _ES_MALE)
    names, weights = _EN_FEMALE if sex == "F" else _EN_MALE
    return rng.choices(names, cum_weights=weights)[0]


def last_name(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.14:
        return rng.choice(WORDLIKE_SURNAMES)
    if roll < 0.17:
        return rng.choice(IRISH_SURNAMES)
    if roll < 0.20:
        return f"{rng.choice(_ES_LAST)}-{rng.choice(_ES_LAST)}"
    if roll < 0.38:
        return rng.choice(_ES_LAST)
    names, weights = _EN_LAST
    return rng.choices(names, cum_weights=weights)[0]


def nickname(rng: random.Random) -> str:
    return rng.choice(NICKNAMES)


def date_of_birth(rng: random.Random, on: dt.date, age: int | None) -> dt.date:
    if age is None or not 5 <= age <= 99:
        age = rng.randint(17, 48)
    born = on.replace(year=on.year - age - 1) if not (on.month == 2 and on.day == 29) else \
        on.replace(day=28, year=on.year - age - 1)
    return born + dt.timedelta(days=rng.randint(1, 364))


def new_person(rng: random.Random, key: str, sex: str, on: dt.date, age: int | None,
               record: bool) -> Person:
    return Person(key=key, first=first_name(rng, sex), middle=first_name(rng, sex), last=last_name(rng),
                  sex=sex, nick=nickname(rng), dob=date_of_birth(rng, on, age), record=record)


def format_dob(rng: random.Random, born: dt.date) -> str:
    """A date of birth as officers write it: slashes, dashes, dots, 2- or 4-digit years."""
    m, d, y = born.month, born.day, born.year
    forms = [
        (0.34, f"{m:02d}/{d:02d}/{y}"),
        (0.16, f"{m}/{d}/{y}"),
        (0.12, f"{m:02d}/{d:02d}/{y % 100:02d}"),
        (0.08, f"{m}/{d}/{y % 100:02d}"),
        (0.08, f"{m:02d}-{d:02d}-{y}"),
        (0.05, f"{m}-{d}-{y % 100:02d}"),
        (0.05, f"{y}-{m:02d}-{d:02d}"),
        (0.04, f"{m:02d}.{d:02d}.{y}"),
        (0.05, f"{MONTHS[m - 1]} {d}, {y}"),
        (0.03, f"{d} {MONTHS[m - 1][:3]} {y}"),
    ]
    return _pick(rng, forms)


def plate(rng: random.Random) -> str:
    """A registration in one of several state layouts (fictitious, random)."""
    def L(n: int) -> str:  # letters, never O or I (they read as digits)
        return "".join(rng.choice(string.ascii_uppercase.replace("O", "").replace("I", "")) for _ in range(n))

    def D(n: int) -> str:  # digits
        return "".join(rng.choice(string.digits) for _ in range(n))

    forms = [
        (0.30, lambda: f"{D(1)}{L(3)}{D(2)}"),   # 1ABC23
        (0.15, lambda: f"{D(1)}{L(2)}{D(3)}"),   # 1AB234
        (0.10, lambda: f"{D(3)}{L(3)}"),          # 123ABC
        (0.10, lambda: f"{L(3)}{D(4)}"),          # ABC1234
        (0.08, lambda: f"{D(1)}{L(2)} {D(3)}"),  # 4KT 729
        (0.07, lambda: f"{L(3)}-{D(4)}"),         # ABC-1234
        (0.07, lambda: f"{D(3)}-{L(3)}"),         # 123-ABC
        (0.06, lambda: f"{D(4)}{L(2)}"),          # 1234AB
        (0.07, lambda: f"{L(2)}{D(4)}"),          # AB1234
    ]
    return _pick(rng, forms)()


AREA_CODES = ["617", "857", "781", "508", "339", "978", "774", "401", "603", "347"]


def phone_digits(rng: random.Random) -> str:
    return rng.choice(AREA_CODES) + str(rng.randint(2, 9)) + f"{rng.randint(0, 99):02d}" + \
        f"{rng.randint(0, 9999):04d}"


def format_phone(rng: random.Random, digits: str) -> str:
    a, b, c = digits[:3], digits[3:6], digits[6:]
    forms = [
        (0.30, f"{a}-{b}-{c}"), (0.20, f"({a}) {b}-{c}"), (0.12, f"{a}.{b}.{c}"),
        (0.12, f"{a}{b}{c}"), (0.10, f"{a} {b} {c}"), (0.08, f"({a}){b}-{c}"),
        (0.08, f"+1 {a}-{b}-{c}"),
    ]
    return _pick(rng, forms)


def house_number(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.45:
        return str(rng.randint(1, 99))
    if roll < 0.85:
        return str(rng.randint(100, 999))
    if roll < 0.93:
        return str(rng.randint(1000, 3999))
    if roll < 0.97:
        return f"{rng.randint(1, 199)}{rng.choice('ABC')}"
    low = rng.randint(2, 120)
    return f"{low}-{low + 2}"


def licence_number(rng: random.Random) -> str:
    return "S" + "".join(rng.choice(string.digits) for _ in range(8))


def _pick(rng: random.Random, weighted):
    roll, total = rng.random() * sum(w for w, _ in weighted), 0.0
    for weight, item in weighted:
        total += weight
        if roll < total:
            return item
    return weighted[-1][1]
