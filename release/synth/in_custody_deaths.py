"""Seeded synthetic raw in-custody deaths file (``in_custody_deaths.csv``: one row per death),
with names, dates of birth, demographics, location and a free-text account.

Why: the public file is one exact total per year with explicit zeros, and nothing else;
testing that needs a raw file full of what must never be published, and years without a
death. A few deaths a year at most; at least one year of the range has none and one has
several. Rows from two years before ``first_year`` are included: they are loaded and left
out of the table. Every name, date and sentence is invented. The same ``(year, seed,
first_year)`` gives byte-identical files.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from pathlib import Path

from release.synth.people import weighted
from release.synth.shootings import FIRST_YEAR, address, person_name, write_csv

COLUMNS: tuple[str, ...] = (
    "case_id", "death_date", "manner_of_death", "name", "dob", "sex", "race", "ethnicity", "location",
    "circumstances",
)
MANNERS: tuple[tuple[str, float], ...] = (("Natural", 35.0), ("Accident", 25.0), ("Suicide", 20.0),
                                          ("Undetermined", 10.0), ("Pending", 6.0), ("Homicide", 4.0))
RACES: tuple[tuple[str, float], ...] = (("Black or African American", 55.0), ("White", 35.0), ("Asian", 5.0),
                                        ("Unknown", 5.0))
PLACES = ("holding cell, District {d} station", "booking area, District {d} station",
          "cruiser during transport from {a}", "hospital under police guard")
ACCOUNTS = (
    "{name} was found unresponsive in the {place} during a cell check. Officers began CPR and "
    "EMS transported {pronoun} to the hospital, where {pronoun_subject} was pronounced dead.",
    "{name} reported feeling unwell after booking and collapsed in the {place}. EMS responded; "
    "{pronoun_subject} was pronounced dead at the hospital.",
    "During transport {name} became unresponsive ({place}). Officers called EMS and "
    "{pronoun_subject} was pronounced dead on arrival.",
)


def _account(rng: random.Random, name: str, place: str, female: bool) -> str:
    return rng.choice(ACCOUNTS).format(name=name, place=place, pronoun="her" if female else "him",
                                       pronoun_subject="she" if female else "he")


def generate_custody_deaths(year: int = 2020, *, seed: int = 2020,
                            first_year: int = FIRST_YEAR) -> list[dict[str, str]]:
    """Death rows from two years before ``first_year`` to ``year``."""
    rng = random.Random(f"in_custody_deaths/{year}/{seed}/{first_year}")
    years = list(range(first_year - 2, year + 1))
    counts = {y: rng.choices((0, 1, 2, 3), (35, 35, 20, 10))[0] for y in years}
    inside = [y for y in years if y >= first_year]
    quiet, busy = rng.sample(inside, 2)
    counts[quiet] = 0                              # at least one year without a death
    counts[busy] = max(counts[busy], 2)            # and one with several
    rows: list[dict[str, str]] = []
    for in_year in years:
        days = sorted(date(in_year, 1, 1) + timedelta(days=rng.randrange(365)) for _ in range(counts[in_year]))
        for serial, day in enumerate(days, start=1):
            female = rng.random() < 0.12
            race = weighted(rng, RACES)
            name = person_name(rng, race, None, female)
            place = rng.choice(PLACES).format(d=rng.choice(("B-2", "B-3", "C-11", "D-4", "E-13")), a=address(rng))
            moment = datetime(day.year, day.month, day.day, rng.randrange(24), rng.randrange(60))
            rows.append({
                "case_id": f"ICD-{in_year}-{serial:02d}",
                "death_date": moment.strftime("%Y-%m-%d %H:%M"),
                "manner_of_death": weighted(rng, MANNERS),
                "name": name,
                "dob": (day - timedelta(days=rng.randint(18 * 365, 70 * 365))).strftime("%m/%d/%Y"),
                "sex": "Female" if female else "Male",
                "race": race,
                "ethnicity": rng.choice(("Not Hispanic or Latinx", "Not Hispanic or Latinx", "Hispanic or Latinx")),
                "location": place,
                "circumstances": _account(rng, name, place, female),
            })
    return rows


def write_custody_deaths(rows: list[dict[str, str]], out_dir: Path, *, encoding: str = "utf-8",
                         line_terminator: str = "\n") -> list[Path]:
    return [write_csv(Path(out_dir) / "in_custody_deaths.csv", COLUMNS, rows, encoding=encoding,
                      line_terminator=line_terminator)]


def write_sample(out_dir: Path) -> list[Path]:
    """The bundled sample: ``release/samples/in_custody_deaths/2020/`` (2014-2020, seed 2020)."""
    return write_custody_deaths(generate_custody_deaths(2020, seed=2020), out_dir)
