"""Seeded synthetic raw shootings export (``shootings.csv``: one row per victim struck),
plus the incident helpers the other incident generators share (districts, timestamps,
addresses, coordinates, yes/no flags in mixed spellings, CSV writing).

Why: the shootings release must be built and tested on a raw export with victims' names,
dates of birth, addresses, coordinates and the self-inflicted / justifiable flags, which
nobody may share. The value domains and their rough frequencies (districts, NIBRS race
and ethnicity spellings, the share of fatal and multi-victim shootings, the
``YYYY-MM-DD HH:MM:SS+00`` timestamps) follow the City's public file; every row, name,
address and coordinate is drawn at random. The same ``(year, seed, first_year,
incidents_per_year)`` gives byte-identical files.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path

from release.synth import values
from release.synth.people import compose, group_for, weighted
from release.synth.places import AREAS

COLUMNS: tuple[str, ...] = (
    "incident_num", "shooting_date", "district", "shooting_type_v2", "victim_gender", "victim_race",
    "victim_ethnicity_NIBRS", "multi_victim", "victim_name", "victim_dob", "incident_address",
    "latitude", "longitude", "self_inflicted", "justifiable",
)
FIRST_YEAR = 2016
# Police districts with weights close to the City's share of shootings (External is rare).
DISTRICTS: tuple[tuple[str, float], ...] = (
    ("B2", 30.0), ("B3", 25.0), ("C11", 17.0), ("E13", 8.0), ("E18", 5.3), ("D4", 4.3),
    ("C6", 3.2), ("A7", 1.8), ("E5", 1.6), ("D14", 1.2), ("A1", 1.1), ("A15", 0.7), ("External", 0.4),
)
RACES: tuple[tuple[str, float], ...] = (
    ("Black or African American", 78.6), ("White", 15.9), ("Unknown", 3.8), ("", 1.3), ("Asian", 0.4),
)
_GROUP_RACE = {"Black or African American": "Black", "White": "White", "Asian": "Asian"}
# (yes, no) spellings seen across export eras; a blank "no" is common.
FLAG_STYLES: tuple[tuple[str, str], ...] = (("t", "f"), ("t", "f"), ("1", "0"), ("TRUE", "FALSE"),
                                            ("Yes", "No"), ("t", ""))
# hours of the day weighted towards the night, as shootings are
_HOUR_WEIGHTS = (8, 7, 6, 4, 3, 2, 1, 1, 1, 1, 2, 2, 3, 3, 3, 4, 4, 5, 5, 6, 7, 8, 9, 9)


def timestamp(rng: random.Random, year: int) -> datetime:
    day = date(year, 1, 1) + timedelta(days=rng.randrange(366 if year % 4 == 0 else 365))
    hour = rng.choices(range(24), _HOUR_WEIGHTS)[0]
    return datetime(day.year, day.month, day.day, hour, rng.randrange(60), rng.randrange(60))


def city_timestamp(moment: datetime) -> str:
    """The City's export format: ``YYYY-MM-DD HH:MM:SS+00``."""
    return moment.strftime("%Y-%m-%d %H:%M:%S") + "+00"


def incident_num(rng: random.Random, year: int, seen: set[str]) -> str:
    """``I`` + 2-digit year + 7 digits (sometimes ``-00``), or the older 9-digit form; new to ``seen``."""
    while True:
        if rng.random() < 0.35:
            number = f"{year % 100:02d}{rng.randint(0, 9999999):07d}"
        else:
            number = values.incident_number(rng, year)
        if number.removesuffix("-00") not in seen:
            seen.add(number.removesuffix("-00"))
            return number


def address(rng: random.Random) -> str:
    area = rng.choices(AREAS, [a.weight for a in AREAS])[0]
    return values.incident_address(rng, rng.choice(area.streets))[0]


def coordinates(rng: random.Random) -> tuple[str, str]:
    """A random point in a box around Boston (7 decimals, as GIS exports write them)."""
    return f"{rng.uniform(42.23, 42.39):.7f}", f"{rng.uniform(-71.17, -70.99):.7f}"


def flag(style: tuple[str, str], value: bool) -> str:
    return style[0] if value else style[1]


def messy(rng: random.Random, value: str, rate: float = 0.03) -> str:
    """Stray spaces and NULL tokens, as the City's exports carry them."""
    roll = rng.random()
    if not value:
        return "NULL" if roll < 0.3 else ""
    if roll < rate:
        return value + " "
    if roll < rate * 1.5:
        return " " + value
    return value


def person_name(rng: random.Random, race: str, hispanic: bool | None, female: bool) -> str:
    return compose(rng, group_for(rng, _GROUP_RACE.get(race, ""), hispanic), female).full


def dob(rng: random.Random, on: date, youngest: int, oldest: int) -> str:
    born = on - timedelta(days=rng.randint(youngest * 365 + 1, oldest * 365))
    return values.dob_column(rng, born)


def _ethnicity(rng: random.Random, race: str) -> str:
    hispanic_share = {"White": 0.55, "Black or African American": 0.12}.get(race, 0.2)
    roll = rng.random()
    if roll < 0.05:
        return rng.choice(("Unknown", "Unknown", ""))
    spelling = "Latino" if rng.random() < 0.05 else "Latinx"  # the NIBRS spelling, in older rows
    return f"Hispanic or {spelling}" if roll < 0.05 + hispanic_share else f"Not Hispanic or {spelling}"


def _victim(rng: random.Random, when: datetime, multi: bool, style: tuple[str, str],
            self_inflicted: bool, justifiable: bool) -> dict[str, str]:
    race = weighted(rng, RACES)
    ethnicity = _ethnicity(rng, race)
    female = rng.random() < 0.105
    gender = "" if rng.random() < 0.007 else ("Female" if female else "Male")
    fatal = rng.random() < (0.35 if self_inflicted else 0.165)
    published_race = "Black" if race.startswith("Black") and rng.random() < 0.03 else race
    return {
        "shooting_type_v2": messy(rng, "Fatal" if fatal else "Non-Fatal"),
        "victim_gender": messy(rng, gender),
        "victim_race": messy(rng, published_race),
        "victim_ethnicity_NIBRS": messy(rng, ethnicity),
        "multi_victim": "t" if multi else "f",
        "victim_name": person_name(rng, race, "Hispanic or" in ethnicity and "Not" not in ethnicity, female),
        "victim_dob": dob(rng, when.date(), 14, 62),
        "self_inflicted": flag(style, self_inflicted),
        "justifiable": "pending" if rng.random() < 0.002 else flag(style, justifiable),
    }


def generate_shootings(year: int = 2020, *, seed: int = 2020, first_year: int = FIRST_YEAR,
                       incidents_per_year: int = 200) -> list[dict[str, str]]:
    """Victim rows of every year from ``first_year`` to ``year``, in date order."""
    rng = random.Random(f"shootings/{year}/{seed}/{first_year}/{incidents_per_year}")
    rows: list[dict[str, str]] = []
    seen: set[str] = set()
    for in_year in range(first_year, year + 1):
        style = FLAG_STYLES[in_year % len(FLAG_STYLES)]
        for _ in range(incidents_per_year):
            when = timestamp(rng, in_year)
            victims = rng.choices((1, 2, 3, 4), (80, 14, 4, 2))[0]
            special = rng.random()
            self_inflicted = victims == 1 and special < 0.012
            justifiable = victims == 1 and 0.012 <= special < 0.027
            latitude, longitude = coordinates(rng)
            incident = {"incident_num": incident_num(rng, in_year, seen), "shooting_date": city_timestamp(when),
                        "district": messy(rng, weighted(rng, DISTRICTS), rate=0.01),
                        "incident_address": address(rng), "latitude": latitude, "longitude": longitude}
            for _ in range(victims):
                row = dict(incident, **_victim(rng, when, victims > 1, style, self_inflicted, justifiable))
                rows.append({column: row[column] for column in COLUMNS})
    rows.sort(key=lambda row: (row["shooting_date"], row["incident_num"]))
    return rows


def write_csv(path: Path, columns: Sequence[str], rows: Iterable[dict[str, str]], *,
              encoding: str = "utf-8", line_terminator: str = "\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, lineterminator=line_terminator)
        writer.writerow(columns)
        writer.writerows([row[column] for column in columns] for row in rows)
    return path


def write_shootings(rows: list[dict[str, str]], out_dir: Path, *, encoding: str = "utf-8",
                    line_terminator: str = "\n") -> list[Path]:
    return [write_csv(Path(out_dir) / "shootings.csv", COLUMNS, rows, encoding=encoding,
                      line_terminator=line_terminator)]


def write_sample(out_dir: Path) -> list[Path]:
    """The bundled sample: ``release/samples/shootings/2020/`` (2016-2020, seed 2020)."""
    return write_shootings(generate_shootings(2020, seed=2020), out_dir)
