"""Seeded synthetic raw homicide case file (``homicides.csv``: one row per case), with
victims' and suspects' names.

Why: the FBI-method table must be tested on cases that exercise its rules: deaths ruled a
homicide months or years after the injury, clearances years after the homicide, a
clearance (an arrest for the assault) dated before the death was ruled a homicide, and
open cases. Cases occur from ``first_year`` (older than the table, so clearances of
earlier years exist) to ``year``; rulings and clearances run up to the export date (a
month after the year's end), so some fall after the release year. Every name is drawn at
random. The same ``(year, seed, first_year, cases_per_year)`` gives byte-identical files.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

from release.synth.shootings import person_name, write_csv

COLUMNS: tuple[str, ...] = (
    "case_id", "occurred_date", "ruled_homicide_date", "cleared_date", "clearance_type",
    "victim_name", "victim_dob", "suspect_name",
)
FIRST_YEAR = 2006
TYPES = {"arrest": ("arrest", "arrest", "Arrest", "Cleared by Arrest"),
         "exceptional": ("exceptional", "Exceptional Means")}


def _ruled(rng: random.Random, occurred: date) -> date:
    roll = rng.random()
    if roll < 0.92:
        return occurred + timedelta(days=rng.randint(0, 3))
    if roll < 0.97:
        return occurred + timedelta(days=rng.randint(20, 300))
    return occurred + timedelta(days=rng.randint(365, 6 * 365))   # died of the injuries years later


def _cleared(rng: random.Random, occurred: date) -> date | None:
    if rng.random() > 0.58:
        return None
    roll = rng.random()
    days = rng.randint(1, 60) if roll < 0.5 else rng.randint(61, 730) if roll < 0.8 else rng.randint(731, 3650)
    return occurred + timedelta(days=days)


def generate_homicides(year: int = 2020, *, seed: int = 2020, first_year: int = FIRST_YEAR,
                       cases_per_year: int = 50) -> list[dict[str, str]]:
    """Case rows occurring from ``first_year`` to ``year`` as known a month after ``year``."""
    rng = random.Random(f"homicides/{year}/{seed}/{first_year}/{cases_per_year}")
    exported = date(year + 1, 1, 31)
    rows: list[dict[str, str]] = []
    for in_year in range(first_year, year + 1):
        count = max(0, cases_per_year + rng.randint(-cases_per_year // 5, cases_per_year // 5))
        days = sorted(date(in_year, 1, 1) + timedelta(days=rng.randrange(365)) for _ in range(count))
        for serial, occurred in enumerate(days, start=1):
            ruled = _ruled(rng, occurred)
            if ruled > exported:
                continue   # not (yet) a homicide when the file was exported
            cleared = _cleared(rng, occurred)
            if cleared is not None and cleared > exported:
                cleared = None
            kind = "arrest" if rng.random() < 0.85 else "exceptional"
            female = rng.random() < 0.14
            rows.append({
                "case_id": f"H{in_year}{serial:04d}",
                "occurred_date": occurred.isoformat(),
                "ruled_homicide_date": ruled.isoformat(),
                "cleared_date": cleared.isoformat() if cleared else "",
                "clearance_type": rng.choice(TYPES[kind]) if cleared else "",
                "victim_name": person_name(rng, "", None, female),
                "victim_dob": (occurred - timedelta(days=rng.randint(15 * 365, 70 * 365))).strftime("%m/%d/%Y"),
                "suspect_name": person_name(rng, "", None, rng.random() < 0.08)
                if cleared or rng.random() < 0.3 else "",
            })
    return rows


def write_homicides(rows: list[dict[str, str]], out_dir: Path, *, encoding: str = "utf-8",
                    line_terminator: str = "\n") -> list[Path]:
    return [write_csv(Path(out_dir) / "homicides.csv", COLUMNS, rows, encoding=encoding,
                      line_terminator=line_terminator)]


def write_sample(out_dir: Path) -> list[Path]:
    """The bundled sample: ``release/samples/homicide_clearance/2020/`` (cases 2006-2020, seed 2020)."""
    return write_homicides(generate_homicides(2020, seed=2020), out_dir)
