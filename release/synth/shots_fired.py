"""Seeded synthetic raw shots-fired export (``shots_fired.csv``: one row per report of shots
fired with no victim struck), confirmed and unconfirmed reports together.

Why: the release publishes confirmed incidents only and must never show an address,
coordinates or who reported the shots; testing that needs a raw export that carries them.
Districts, timestamps and flags follow the City's public file (``ballistics_evidence``
t/f, ``YYYY-MM-DD HH:MM:SS+00``); addresses, coordinates, sources and the confirmed flag
are drawn at random. A few rows carry the defects the counting rule must handle: ballistics
evidence without a confirmed flag, and a flag that reads neither yes nor no. The same
``(year, seed, first_year, reports_per_year)`` gives byte-identical files.
"""

from __future__ import annotations

import random
from pathlib import Path

from release.synth.people import weighted
from release.synth.shootings import (
    DISTRICTS,
    FIRST_YEAR,
    FLAG_STYLES,
    address,
    city_timestamp,
    coordinates,
    flag,
    incident_num,
    messy,
    timestamp,
    write_csv,
)

COLUMNS: tuple[str, ...] = (
    "incident_num", "incident_date", "district", "ballistics_evidence", "incident_address",
    "latitude", "longitude", "source", "confirmed",
)
SOURCES: tuple[tuple[str, float], ...] = (("ShotSpotter", 45.0), ("911", 45.0), ("officer", 10.0))
# chance that evidence is recovered, and that a report without evidence is corroborated
EVIDENCE = {"ShotSpotter": 0.4, "911": 0.25, "officer": 0.35}
CORROBORATED = {"ShotSpotter": 0.3, "911": 0.55, "officer": 0.85}


def _report(rng: random.Random, in_year: int, style: tuple[str, str], seen: set[str]) -> dict[str, str]:
    source = weighted(rng, SOURCES)
    evidence = rng.random() < EVIDENCE[source]
    confirmed = evidence or rng.random() < CORROBORATED[source]
    roll = rng.random()
    confirmed_text = flag(style, confirmed)
    if evidence and roll < 0.005:
        confirmed_text = style[1]            # evidence recorded, flag left unset
    elif roll > 0.998:
        confirmed_text = "unk"               # reads neither yes nor no
    latitude, longitude = coordinates(rng)
    district = "" if rng.random() < 0.0005 else weighted(rng, DISTRICTS)
    return {
        "incident_num": incident_num(rng, in_year, seen),
        "incident_date": city_timestamp(timestamp(rng, in_year)),
        "district": messy(rng, district, rate=0.01),
        "ballistics_evidence": "t" if evidence else "f",
        "incident_address": address(rng),
        "latitude": latitude, "longitude": longitude,
        "source": source, "confirmed": confirmed_text,
    }


def generate_shots_fired(year: int = 2020, *, seed: int = 2020, first_year: int = FIRST_YEAR,
                         reports_per_year: int = 1000) -> list[dict[str, str]]:
    """Report rows of every year from ``first_year`` to ``year``, in date order."""
    rng = random.Random(f"shots_fired/{year}/{seed}/{first_year}/{reports_per_year}")
    seen: set[str] = set()
    rows = [_report(rng, in_year, FLAG_STYLES[in_year % len(FLAG_STYLES)], seen)
            for in_year in range(first_year, year + 1) for _ in range(reports_per_year)]
    rows.sort(key=lambda row: (row["incident_date"], row["incident_num"]))
    return rows


def write_shots_fired(rows: list[dict[str, str]], out_dir: Path, *, encoding: str = "utf-8",
                      line_terminator: str = "\n") -> list[Path]:
    return [write_csv(Path(out_dir) / "shots_fired.csv", COLUMNS, rows, encoding=encoding,
                      line_terminator=line_terminator)]


def write_sample(out_dir: Path) -> list[Path]:
    """The bundled sample: ``release/samples/shots_fired/2020/`` (2016-2020, seed 2020)."""
    return write_shots_fired(generate_shots_fired(2020, seed=2020), out_dir)
