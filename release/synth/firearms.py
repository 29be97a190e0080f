"""Seeded synthetic raw Firearms Analysis Unit export (``firearms.csv``: one row per firearm
submitted), with serial numbers and owners' names.

Why: the public file is daily counts by category, and the counting rule (every firearm on
the day received, totals equal to the records by category, every day present) must be
tested on records that carry raw-only values. Volumes are of the order of the City's
(several hundred crime guns a year, surrenders and safekeeping through the year, buybacks
on a few event days); category spellings vary as typed. Some crime guns relate to an
incident of an earlier year. Every serial number and name is drawn at random. The same
``(year, seed, first_year, crime_guns_per_year)`` gives byte-identical files.
"""

from __future__ import annotations

import random
import string
from datetime import date, datetime, timedelta
from pathlib import Path

from release.synth.shootings import FIRST_YEAR, person_name, write_csv

COLUMNS: tuple[str, ...] = (
    "submission_id", "received_date", "category", "related_incident_date", "serial_number", "owner_name",
)
SPELLINGS = {"crime": ("crime", "crime", "crime", "Crime", "CRIME GUN"),
             "surrendered": ("surrendered", "surrendered", "Surrender"),
             "safeguarded": ("safeguarded", "safeguarded", "Safekeeping"),
             "buyback": ("buyback", "buyback", "Buy Back")}


def _serial(rng: random.Random) -> str:
    if rng.random() < 0.04:
        return ""                     # obliterated or unreadable
    letters = "".join(rng.choices(string.ascii_uppercase, k=rng.randint(0, 3)))
    return letters + "".join(rng.choices(string.digits, k=rng.randint(6, 8)))


def _received(rng: random.Random, day: date) -> str:
    moment = datetime(day.year, day.month, day.day, rng.randint(7, 18), rng.randrange(60), rng.randrange(60))
    return moment.strftime("%Y-%m-%d %H:%M:%S") if rng.random() < 0.8 else moment.strftime("%Y-%m-%d")


def _day(rng: random.Random, year: int) -> date:
    while True:
        day = date(year, 1, 1) + timedelta(days=rng.randrange(366 if year % 4 == 0 else 365))
        if day.weekday() < 5 or rng.random() < 0.25:   # the unit works weekdays, mostly
            return day


def _related(rng: random.Random, received: date) -> str:
    if rng.random() < 0.06:   # an earlier year's investigation
        back = timedelta(days=rng.randint(received.timetuple().tm_yday, received.timetuple().tm_yday + 700))
    else:
        back = timedelta(days=min(rng.randint(0, 20), received.timetuple().tm_yday - 1))
    return (received - back).isoformat()


def generate_firearms(year: int = 2020, *, seed: int = 2020, first_year: int = FIRST_YEAR,
                      crime_guns_per_year: int = 650) -> list[dict[str, str]]:
    """Firearm rows received from ``first_year`` to ``year``, in order of receipt."""
    rng = random.Random(f"firearms/{year}/{seed}/{first_year}/{crime_guns_per_year}")
    drawn: list[tuple[date, str]] = []
    for in_year in range(first_year, year + 1):
        drawn += [(_day(rng, in_year), "crime") for _ in range(crime_guns_per_year)]
        drawn += [(_day(rng, in_year), "surrendered") for _ in range(crime_guns_per_year // 7)]
        drawn += [(_day(rng, in_year), "safeguarded") for _ in range(crime_guns_per_year // 9)]
        for _ in range(2):  # buyback events: many guns on one day
            event = _day(rng, in_year)
            drawn += [(event, "buyback")] * rng.randint(crime_guns_per_year // 25, crime_guns_per_year // 12)
    drawn.sort()
    rows: list[dict[str, str]] = []
    serial_by_year: dict[int, int] = {}
    for received, category in drawn:
        serial_by_year[received.year] = serial_by_year.get(received.year, 0) + rng.randint(1, 3)
        owned = category in ("surrendered", "safeguarded")
        rows.append({
            "submission_id": f"FAU{received.year % 100:02d}-{serial_by_year[received.year]:05d}",
            "received_date": _received(rng, received),
            "category": rng.choice(SPELLINGS[category]),
            "related_incident_date": _related(rng, received) if category == "crime" else "",
            "serial_number": _serial(rng),
            "owner_name": person_name(rng, "", None, rng.random() < 0.15) if owned else "",
        })
    return rows


def write_firearms(rows: list[dict[str, str]], out_dir: Path, *, encoding: str = "utf-8",
                   line_terminator: str = "\n") -> list[Path]:
    return [write_csv(Path(out_dir) / "firearms.csv", COLUMNS, rows, encoding=encoding,
                      line_terminator=line_terminator)]


def write_sample(out_dir: Path) -> list[Path]:
    """The bundled sample: ``release/samples/firearms/2020/`` (2016-2020, seed 2020)."""
    return write_firearms(generate_firearms(2020, seed=2020), out_dir)
