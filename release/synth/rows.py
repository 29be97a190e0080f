"""Raw rows of the synthetic FIOE export: one person row, and the structured fields of one
report, with the defects of the City's exports (``''`` and ``NULL`` missing values,
stray spaces, impossible ages, mixed date formats).

Each builder takes the report's own ``random.Random`` so that rows are reproducible.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from release.synth import values
from release.synth.people import compose, group_for, nickname, weighted
from release.synth.phrases import Person
from release.synth.places import AREAS, OUTSIDE_TOWNS, Area
from release.synth.vocab import (
    AGE_BANDS,
    BUILD,
    CLOTHING,
    HAIR_STYLE,
    LICENSE_TYPE,
    RACE,
    SEX,
    SKIN_TONE_DARK,
    SKIN_TONE_LIGHT,
    US_STATES,
)

HISPANIC_SHARE = {"White": 0.33, "Black": 0.1, "Other": 0.6, "Unknown": 0.35, "": 0.3, "Asian": 0.02}


def missing(rng: random.Random) -> str:
    """A missing value as the exports spell it: mostly empty, sometimes ``NULL``."""
    return "NULL" if rng.random() < 0.12 else ""


def stray(rng: random.Random, value: str, rate: float = 0.003) -> str:
    """Now and then a category value carries a stray leading or trailing space."""
    if value and rng.random() < rate:
        return value + " " if rng.random() < 0.7 else " " + value
    return value


def blank_or(rng: random.Random, value: str) -> str:
    return value if value else missing(rng)


def pick_area(rng: random.Random) -> Area:
    return rng.choices(AREAS, [area.weight for area in AREAS])[0]


def draw_age(rng: random.Random, minor_boost: float = 1.0) -> int:
    weights = [weight * (minor_boost if high < 18 else 1.0) for _low, high, weight in AGE_BANDS]
    low, high, _weight = rng.choices(AGE_BANDS, weights)[0]
    return rng.randint(low, high)


def dob_for(rng: random.Random, age: int, on: date) -> date:
    """A birth date giving exactly ``age`` whole years on ``on``."""
    try:
        latest = on.replace(year=on.year - age)
    except ValueError:  # 29 February
        latest = on.replace(year=on.year - age, day=28)
    return latest - timedelta(days=rng.randint(0, 364))


def age_on(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


@dataclass(frozen=True)
class PersonDraw:
    """A generated persons row and the person behind it, whom the narrative may then describe."""

    row: dict[str, str]
    person: Person


def person_row(rng: random.Random, when: datetime, scenario: str, minor_boost: float) -> PersonDraw:
    """One persons-table row (without ids) and what the narrative may say about the person."""
    sex = weighted(rng, SEX)
    female = sex in {"Female", "Male to Female Transgender"} or (sex in {"", "Unknown"} and rng.random() < 0.2)
    race = weighted(rng, RACE)
    hispanic = rng.random() < HISPANIC_SHARE.get(race, 0.1)
    name = compose(rng, group_for(rng, race, hispanic), female)
    if rng.random() < 0.12:
        ethnicity = "Unknown"
    elif rng.random() < 0.16:
        ethnicity = ""
    else:
        ethnicity = "Hispanic Origin" if hispanic else "Not of Hispanic Origin"
    true_age = draw_age(rng, minor_boost)
    born = dob_for(rng, true_age, when.date())
    alias = nickname(rng, name.first) if rng.random() < 0.15 else ""

    area = pick_area(rng)
    home_text = ""
    if scenario == "homeless" and rng.random() < 0.7:
        home_column = rng.choice(("HOMELESS", "Homeless", "NO FIXED ADDRESS", ""))
    elif rng.random() < 0.82:
        if rng.random() < 0.07:
            town, zip_code = rng.choice(OUTSIDE_TOWNS)
            street = rng.choice(("Main St", "Elm St", "Pleasant St", "Highland Ave", "Union St", "School St"))
        else:
            town, zip_code, street = area.city, area.zip_code, rng.choice(area.streets)
        home_column, home_text = values.home_address(rng, street, town, zip_code)
    else:
        home_column = ""
    phone_digits = values.phone_digits(rng) if rng.random() < 0.35 else ""

    licence_state = rng.choices(("MA", "", "OTH"), (82.0, 17.0, 1.0))[0]
    if licence_state == "OTH":
        licence_state = weighted(rng, US_STATES[1:])
    licence = values.licence_number(rng, licence_state) if licence_state and rng.random() < 0.85 else ""

    age_cell = str(true_age)
    defect = rng.random()
    if defect < 0.025:
        age_cell = missing(rng)
    elif defect < 0.0265:
        age_cell = "0"
    elif defect < 0.0272:
        age_cell = str(-rng.randint(1, 5))
    elif defect < 0.028:
        age_cell = str(rng.randint(101, 125))
    dob_known = rng.random() < 0.96
    dob_cell = values.dob_column(rng, born) if dob_known else missing(rng)
    dark = race in {"Black", "Other"} or hispanic
    first_cell, last_cell = name.first, name.last
    if rng.random() < 0.3:
        first_cell, last_cell = first_cell.upper(), last_cell.upper()
    if rng.random() < 0.008:
        first_cell = missing(rng)
    row = {
        "first_name": first_cell,
        "middle_name": name.middle if name.middle else missing(rng),
        "last_name": last_cell,
        "alias": blank_or(rng, alias),
        "dob": dob_cell,
        "home_address": blank_or(rng, home_column),
        "phone": values.phone_format(rng, phone_digits) if phone_digits else missing(rng),
        "license_number": blank_or(rng, licence),
        "sex": stray(rng, sex) if sex else missing(rng),
        "race": stray(rng, race) if race else missing(rng),
        "age": age_cell,
        "ethnicity": blank_or(rng, ethnicity),
        "build": blank_or(rng, weighted(rng, BUILD)),
        "hair_style": blank_or(rng, weighted(rng, HAIR_STYLE)),
        "skin_tone": blank_or(rng, weighted(rng, SKIN_TONE_DARK if dark else SKIN_TONE_LIGHT)),
        "otherclothing": rng.choice(CLOTHING) if rng.random() < 0.08 else "",
        "deceased": "1" if rng.random() < 0.0001 else "0",
        "license_state": blank_or(rng, licence_state),
        "license_type": blank_or(rng, weighted(rng, LICENSE_TYPE)),
        "was_frisked": rng.choices(("0", "1", ""), (58.0, 31.5, 10.5))[0] or missing(rng),
    }
    race_letter = {"Black": "b", "White": "w", "Asian": "a"}.get(race, "h" if hispanic else "")
    race_sex = f"{race_letter}/{'f' if female else 'm'}" if race_letter else ""
    if race_sex and rng.random() < 0.5:
        race_sex = race_sex.upper()
    person = Person(
        name=name, female=female, age=true_age, dob=born if dob_known and rng.random() < 0.93 else None,
        alias=alias, home=home_text, phone=phone_digits, licence=licence,
        licence_state=licence_state, race_sex=race_sex, source="subject",
    )
    return PersonDraw(row=row, person=person)

